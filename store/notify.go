package store

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/shopql/shopql/model"
)

// RevocationChannel is the PostgreSQL notification channel on which instances announce revoked sessions.
const RevocationChannel = "shopql_revocations"

// maxPayload stays under PostgreSQL's 8000-byte NOTIFY payload limit.
const maxPayload = 7000

// NotifyRevoked announces revoked sessions to every instance listening on the database. Called inside
// the revoking transaction, the notification is delivered if and only if it commits. On SQLite it does
// nothing: instances sharing a SQLite file learn of revocations by periodic resync.
func NotifyRevoked(ctx context.Context, db bun.IDB, sessions []model.Session) error {
	if !IsPostgres(db) {
		return nil
	}
	var payload strings.Builder
	flush := func() error {
		if payload.Len() == 0 {
			return nil
		}
		_, err := db.NewRaw("SELECT pg_notify(?, ?)", RevocationChannel, payload.String()).Exec(ctx)
		payload.Reset()
		return err
	}
	for _, s := range sessions {
		if payload.Len() > maxPayload {
			if err := flush(); err != nil {
				return err
			}
		}
		if payload.Len() > 0 {
			payload.WriteByte(',')
		}
		payload.WriteString(s.ID)
		payload.WriteByte(':')
		payload.WriteString(strconv.FormatInt(s.AccessExpiresAt.Unix()+1, 10))
	}
	return flush()
}

// ListenRevoked calls onRevoked with the sessions announced by NotifyRevoked until ctx ends, and
// onGap whenever announcements may have been missed (a reconnect or an overflow), so the caller can
// resync from the tables. It returns at once on SQLite.
func ListenRevoked(ctx context.Context, db *bun.DB, onRevoked func([]model.Session), onGap func()) error {
	if !IsPostgres(db) {
		return nil
	}
	ln := pgdriver.NewListener(db)
	defer ln.Close()
	if err := ln.Listen(ctx, RevocationChannel); err != nil {
		return err
	}
	notifications := ln.Channel(
		pgdriver.WithChannelSize(1024),
		pgdriver.WithChannelOverflowHandler(func(pgdriver.Notification) { onGap() }),
	)
	for {
		select {
		case <-ctx.Done():
			return nil
		case n, ok := <-notifications:
			if !ok {
				return nil
			}
			if n.Channel == RevocationChannel {
				onRevoked(parseRevoked(n.Payload))
			}
		}
	}
}

func parseRevoked(payload string) []model.Session {
	var sessions []model.Session
	for _, item := range strings.Split(payload, ",") {
		id, exp, ok := strings.Cut(item, ":")
		unix, err := strconv.ParseInt(exp, 10, 64)
		if !ok || err != nil || id == "" {
			continue
		}
		sessions = append(sessions, model.Session{ID: id, AccessExpiresAt: time.Unix(unix, 0)})
	}
	return sessions
}
