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

// PostgreSQL notification channels on which instances announce changes to each other.
const (
	// RevocationChannel carries revoked sessions (see NotifyRevoked).
	RevocationChannel = "shopql_revocations"
	// SessionChannel carries sessions created or refreshed (see NotifyLive), so that other
	// instances know them before their first request.
	SessionChannel = "shopql_sessions"
	// CatalogChannel says that products or categories changed, for response caches.
	CatalogChannel = "shopql_catalog"
)

// channelScope is SQL for the suffix that makes a channel name the deployment's own: notifications
// go to every session of the database, and deployments (or tests) in other schemas of one database
// must not hear each other — a session announced live by another deployment would otherwise be
// taken for one of ours.
const channelScope = "'_' || left(md5(current_database() || '.' || current_schema()), 16)"

// maxPayload stays under PostgreSQL's 8000-byte NOTIFY payload limit.
const maxPayload = 7000

// NotifyRevoked announces revoked sessions to every instance listening on the database. Called inside
// the revoking transaction, the notification is delivered if and only if it commits. On SQLite it does
// nothing: instances sharing a SQLite file learn of revocations by periodic resync.
func NotifyRevoked(ctx context.Context, db bun.IDB, sessions []model.Session) error {
	return notifySessions(ctx, db, RevocationChannel, sessions)
}

// NotifyLive announces sessions that were created or issued a new access token (ID, UserID and
// AccessExpiresAt are sent), inside the transaction that wrote them, like NotifyRevoked.
func NotifyLive(ctx context.Context, db bun.IDB, sessions ...model.Session) error {
	return notifySessions(ctx, db, SessionChannel, sessions)
}

// notifySessions sends "id:exp:user,…" payloads, exp in Unix seconds rounded up.
func notifySessions(ctx context.Context, db bun.IDB, channel string, sessions []model.Session) error {
	if !IsPostgres(db) {
		return nil
	}
	var payload strings.Builder
	flush := func() error {
		if payload.Len() == 0 {
			return nil
		}
		_, err := db.NewRaw("SELECT pg_notify(? || "+channelScope+", ?)", channel, payload.String()).Exec(ctx)
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
		payload.WriteByte(':')
		payload.WriteString(strconv.FormatInt(s.UserID, 10))
	}
	return flush()
}

// NotifyCatalogChanged announces that products or categories changed. Inside a transaction, the
// announcement goes out when (and only if) it commits. On SQLite it does nothing.
func NotifyCatalogChanged(ctx context.Context, db bun.IDB) error {
	if !IsPostgres(db) {
		return nil
	}
	_, err := db.NewRaw("SELECT pg_notify(? || "+channelScope+", '')", CatalogChannel).Exec(ctx)
	return err
}

// Listen calls handlers[channel] with the payload of every announcement on those channels until
// ctx ends, onSubscribed once the subscription is in place, and onGap whenever announcements may
// have been missed (its buffer overflowed), so that the caller can resync. It returns at once on
// SQLite, where there are no announcements.
func Listen(ctx context.Context, db *bun.DB, handlers map[string]func(payload string), onSubscribed, onGap func()) error {
	if !IsPostgres(db) {
		return nil
	}
	var scope string
	if err := db.NewRaw("SELECT "+channelScope).Scan(ctx, &scope); err != nil {
		return err
	}
	ln := pgdriver.NewListener(db)
	defer ln.Close()
	channels := make([]string, 0, len(handlers))
	byScoped := make(map[string]func(string), len(handlers))
	for ch, handle := range handlers {
		channels = append(channels, ch+scope)
		byScoped[ch+scope] = handle
	}
	if err := ln.Listen(ctx, channels...); err != nil {
		return err
	}
	onSubscribed()
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
			if handle := byScoped[n.Channel]; handle != nil {
				handle(n.Payload)
			}
		}
	}
}

// ParseSessions reads the sessions in a RevocationChannel or SessionChannel payload (ID,
// AccessExpiresAt and UserID; UserID is 0 in a payload of an older version, which had none).
func ParseSessions(payload string) []model.Session {
	var sessions []model.Session
	for _, item := range strings.Split(payload, ",") {
		id, rest, ok := strings.Cut(item, ":")
		exp, user, _ := strings.Cut(rest, ":")
		unix, err := strconv.ParseInt(exp, 10, 64)
		if !ok || err != nil || id == "" {
			continue
		}
		uid, _ := strconv.ParseInt(user, 10, 64)
		sessions = append(sessions, model.Session{ID: id, UserID: uid, AccessExpiresAt: time.Unix(unix, 0)})
	}
	return sessions
}
