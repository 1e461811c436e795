// Package graph is the GraphQL layer: the executor gqlgen generates from schema.graphqls, the thin
// resolvers that connect it to the store and the auth service, per-request dataloaders, and the
// error presenter that turns typed errors into extensions.code.
package graph

import (
	"github.com/uptrace/bun"

	"github.com/shopql/shopql/auth"
	"github.com/shopql/shopql/store"
)

// Resolver is the root resolver; it holds the services the resolvers call.
type Resolver struct {
	DB      *bun.DB
	Auth    *auth.Service
	Catalog *store.Catalog
	Feed    *ProductFeed
}
