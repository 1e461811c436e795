// Package model holds the shop's data types: the bun models stored in the database, which gqlgen binds
// to the GraphQL types of the same name, and the few GraphQL-only types that resolvers assemble.
package model

import (
	"time"

	"github.com/uptrace/bun"
)

// User is a registered account. Email is stored in lower case so that uniqueness ignores case.
type User struct {
	bun.BaseModel `bun:"table:users,alias:u"`

	ID           int64     `bun:"id,pk,autoincrement"`
	Email        string    `bun:"email,notnull"`
	Username     string    `bun:"username,notnull"`
	PasswordHash string    `bun:"password_hash,notnull" json:"-"`
	IsAdmin      bool      `bun:"is_admin,notnull"`
	Blocked      bool      `bun:"blocked,notnull"`
	CreatedAt    time.Time `bun:"created_at,notnull"`
}

// Category groups products. ProductCount is kept up to date by every write to products, in the same
// transaction, so that counting a catalog never scans it.
type Category struct {
	bun.BaseModel `bun:"table:categories,alias:c"`

	ID           int64     `bun:"id,pk,autoincrement"`
	Name         string    `bun:"name,notnull"`
	NameKey      string    `bun:"name_key"` // Name as names are compared (store.nameKey): unique
	ProductCount int64     `bun:"product_count,notnull"`
	CreatedAt    time.Time `bun:"created_at,notnull"`
}

// Product is an item on sale.
type Product struct {
	bun.BaseModel `bun:"table:products,alias:p"`

	ID          int64     `bun:"id,pk,autoincrement"`
	Name        string    `bun:"name,notnull"`
	NameKey     string    `bun:"name_key"` // Name as names are compared (store.nameKey): unique
	Description string    `bun:"description,notnull"`
	Price       float64   `bun:"price,notnull"`
	Quantity    float64   `bun:"quantity,notnull"`
	CategoryID  int64     `bun:"category_id,notnull"`
	CreatedAt   time.Time `bun:"created_at,notnull"`

	// Category is always loaded with the product (every store query joins it), so that GraphQL
	// serves Product.category from the struct with no resolver and no query per item.
	Category *Category `bun:"rel:belongs-to,join:category_id=id"`
}

// Session is one login: the access and refresh tokens it issues carry its ID. RefreshJTI is the ID of
// the only refresh token still good for it (rotation); AccessExpiresAt is when the last access token it
// issued expires, which bounds how long a revocation has to be remembered in memory.
//
// Sessions deliberately have no foreign key to users: a deleted user's revoked sessions must outlive
// the user until their tokens have expired.
type Session struct {
	bun.BaseModel `bun:"table:sessions,alias:s"`

	ID              string     `bun:"id,pk"`
	UserID          int64      `bun:"user_id,notnull"`
	RefreshJTI      string     `bun:"refresh_jti,notnull"`
	CreatedAt       time.Time  `bun:"created_at,notnull"`
	ExpiresAt       time.Time  `bun:"expires_at,notnull"`
	AccessExpiresAt time.Time  `bun:"access_expires_at,notnull"`
	RevokedAt       *time.Time `bun:"revoked_at"`
	// LastUsedAt is the login or the latest refresh; UserAgent and IPAddress what the client sent
	// and where it came from at login.
	LastUsedAt time.Time `bun:"last_used_at"`
	UserAgent  *string   `bun:"user_agent"`
	IPAddress  *string   `bun:"ip_address"`
	// PreviousJTI is the refresh token the latest rotation consumed and RotatedAt when (the iat of
	// the successor, RefreshJTI): within the reuse grace that token may be presented again and gets
	// the same successor, re-signed from these columns and ExpiresAt.
	PreviousJTI *string    `bun:"previous_jti" json:"-"`
	RotatedAt   *time.Time `bun:"rotated_at" json:"-"`

	// Current marks, in a listing, the session of the token making the request (never stored).
	Current bool `bun:"-"`
}

// Setting is a value the server keeps with the data, such as a generated signing secret.
type Setting struct {
	bun.BaseModel `bun:"table:settings"`

	Key   string `bun:"key,pk"`
	Value string `bun:"value,notnull"`
}

// ProductCatalog is one page of the product listing. Items is nil when the caller is anonymous.
// TotalCount is resolved on demand from Filter, so a page that does not ask for it costs no count.
type ProductCatalog struct {
	Detailed bool
	Names    []string
	Items    []*Product
	Message  *string
	PageInfo *PageInfo

	// CategoryID restricts the listing (and TotalCount) to one category when non-zero.
	CategoryID int64 `json:"-"`
	// KnownTotal is TotalCount when it was read with the page (nil: count on demand).
	KnownTotal *int `json:"-"`
}

// SigningKey is an asymmetric token signing key. PrivateKey is the key's seed, base64-encoded.
type SigningKey struct {
	bun.BaseModel `bun:"table:signing_keys"`

	KID        string    `bun:"kid,pk"`
	Algorithm  string    `bun:"algorithm,notnull"`
	PrivateKey string    `bun:"private_key,notnull" json:"-"`
	CreatedAt  time.Time `bun:"created_at,notnull"`
}
