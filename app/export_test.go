package app

import (
	"github.com/99designs/gqlgen/graphql"

	"github.com/shopql/shopql/graph"
)

// AdjustSchemaForTest rebuilds a's HTTP handler with its executable schema's configuration changed by
// adjust, so that tests can put failing resolvers and directives behind the real handler.
func AdjustSchemaForTest(a *App, adjust func(*graph.Config)) {
	a.adjustSchema = adjust
	a.handler = a.routes()
}

// AroundFieldsForTest rebuilds a's HTTP handler with mw as field middleware (nil: none), so that
// tests can run the same documents with and without the executor's plain fields.
func AroundFieldsForTest(a *App, mw graphql.FieldMiddleware) {
	a.aroundFields = mw
	a.handler = a.routes()
}
