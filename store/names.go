package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
	"golang.org/x/text/unicode/norm"
)

// Product and category names are unique as people read them, not as bytes: "Ｔools" (fullwidth),
// "Tools" and "Tools" with a zero-width space look the same, so they must not name two things. A
// name is stored as given and beside it its key, nameKey(name), under a unique index; lookups by
// name stay exact.

// nameKey is the form names are compared in: NFKC (compatibility characters such as fullwidth
// letters, ligatures and no-break spaces become their plain forms) without invisible characters
// (which checkName refuses in new names, but older rows may hold) and without variation selectors
// (accepted, as emoji need them, but "❤" and "❤️" read the same).
func nameKey(name string) string {
	return norm.NFKC.String(strings.Map(func(r rune) rune {
		if isInvisible(r) || unicode.Is(unicode.Variation_Selector, r) {
			return -1
		}
		return r
	}, name))
}

// isInvisible reports the characters that show nothing, or change how the text around them is
// shown, so that a name holding them looks like another: format characters (zero-width space and
// joiners, the byte-order mark, bidirectional controls such as U+202E, tags), the other
// default-ignorable code points (Hangul fillers, the combining grapheme joiner, …), and the line
// and paragraph separators. Variation selectors, also invisible, are not among them: they only
// choose how the character before them is drawn (emoji or text style), and nameKey ignores them.
func isInvisible(r rune) bool {
	return unicode.In(r, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point, unicode.Zl, unicode.Zp)
}

// keyNameTables is the migration 20261201000001_name_keys: it gives categories and products their
// name_key column and its unique index. Rows already there whose keys collide (look-alikes stored
// before this rule) are all kept, reachable by their exact names: the row whose name is already in
// its key's form, or else the oldest, takes the key, and each other one gets the key followed by
// U+001F and its ID, which no new name can have (control characters are refused).
var keyNameTables = migrate.Migration{
	Name:    "20261201000001",
	Comment: "name_keys",
	Up: func(ctx context.Context, m *migrate.Migrator, _ *migrate.Migration) error {
		return m.DB().RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			for _, table := range []string{"categories", "products"} {
				if err := addNameKeys(ctx, tx, table); err != nil {
					return fmt.Errorf("%s: %w", table, err)
				}
			}
			return nil
		})
	},
	Down: func(ctx context.Context, m *migrate.Migrator, _ *migrate.Migration) error {
		return m.DB().RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			for _, table := range []string{"categories", "products"} {
				if _, err := tx.ExecContext(ctx, "DROP INDEX "+table+"_name_key_uniq"); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, "ALTER TABLE "+table+" DROP COLUMN name_key"); err != nil {
					return err
				}
			}
			return nil
		})
	},
}

func addNameKeys(ctx context.Context, tx bun.Tx, table string) error {
	for _, stmt := range []string{
		"ALTER TABLE " + table + " ADD COLUMN name_key TEXT",
		"UPDATE " + table + " SET name_key = name", // exact names are unique already
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	// Only names not in their key's form need another key: read them all once (a large catalog
	// has few), then give each its key unless a row holds it already.
	type change struct {
		id  int64
		key string
	}
	var changes []change
	rows, err := tx.QueryContext(ctx, "SELECT id, name FROM "+table+" ORDER BY id")
	if err != nil {
		return err
	}
	for rows.Next() {
		var c change
		var name string
		if err := rows.Scan(&c.id, &name); err != nil {
			rows.Close()
			return err
		}
		if c.key = nameKey(name); c.key != name {
			changes = append(changes, c)
		}
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// Looking keys up needs an index; the unique one can only come once they are unique.
	if _, err := tx.ExecContext(ctx, "CREATE INDEX "+table+"_name_key_tmp ON "+table+" (name_key)"); err != nil {
		return err
	}
	for _, c := range changes {
		var holder int64
		err := tx.QueryRowContext(ctx, "SELECT id FROM "+table+" WHERE name_key = ?", c.key).Scan(&holder)
		switch {
		case err == nil:
			c.key += "\x1f" + strconv.FormatInt(c.id, 10)
		case err != sql.ErrNoRows:
			return err
		}
		if _, err := tx.ExecContext(ctx, "UPDATE "+table+" SET name_key = ? WHERE id = ?", c.key, c.id); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, "DROP INDEX "+table+"_name_key_tmp"); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, "CREATE UNIQUE INDEX "+table+"_name_key_uniq ON "+table+" (name_key)")
	return err
}
