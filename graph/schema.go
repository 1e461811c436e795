package graph

import (
	"maps"

	"github.com/99designs/gqlgen/graphql"
)

// NewServedSchema is NewExecutableSchema over the schema as this server serves it: gqlgen's
// built-in @defer directive is left out. Its incremental delivery (multipart/mixed responses) is
// not offered, so introspection must not advertise it, and without the declaration the standard
// KnownDirectives validation rule refuses documents that use it (GRAPHQL_VALIDATION_FAILED) before
// they run, over every transport.
func NewServedSchema(cfg Config) graphql.ExecutableSchema {
	full := NewExecutableSchema(cfg).Schema()
	served := *full
	served.Directives = maps.Clone(full.Directives)
	delete(served.Directives, "defer")
	cfg.Schema = &served
	return NewExecutableSchema(cfg)
}
