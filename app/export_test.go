package app

import "github.com/shopql/shopql/graph"

// AdjustSchemaForTest rebuilds a's HTTP handler with its executable schema's configuration changed by
// adjust, so that tests can put failing resolvers and directives behind the real handler.
func AdjustSchemaForTest(a *App, adjust func(*graph.Config)) {
	a.adjustSchema = adjust
	a.handler = a.routes()
}
