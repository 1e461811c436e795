package app

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/shopql/shopql/auth"
	"github.com/shopql/shopql/graph/limits"
)

// graphQLLimits is the document-shape limits extension configured from c. login, register and
// refreshToken may appear once per operation: with aliases one request could otherwise carry
// hundreds of password guesses, all hashed at once before any throttle could answer.
func (c *Config) graphQLLimits() *limits.Extension {
	return limits.New(limits.Config{
		MaxDocumentBytes: c.GraphQLMaxDocumentBytes,
		MaxDepth:         c.GraphQLMaxDepth,
		MaxAliases:       c.GraphQLMaxAliases,
		MaxDirectives:    c.GraphQLMaxDirectives,
		MaxComplexity:    c.GraphQLMaxComplexity,
		OncePerOperation: []string{"login", "register", "refreshToken"},
		NoIntrospection:  !c.GraphQLIntrospection,
	})
}

// bruteForceLimits are the login and registration throttles configured from c.
func (c *Config) bruteForceLimits() auth.Limits {
	return auth.Limits{
		LoginPerAccount:    c.LoginLimitPerAccount,
		LoginPerAddress:    c.LoginLimitPerAddress,
		LoginPerDevice:     c.LoginLimitPerDevice,
		RegisterPerAddress: c.RegisterLimitPerAddress,
	}
}

// withTimeout bounds the execution of each GraphQL operation by REQUEST_TIMEOUT. It is a response
// middleware, inside gqlgen's executor, rather than an HTTP one: an HTTP deadline would make gqlgen
// answer a late request with an empty body instead of an error. Resolvers see the deadline through
// their context; the database calls then fail with context.DeadlineExceeded, which the error
// presenter reports as TIMEOUT.
func (c *Config) withTimeout() graphql.ResponseMiddleware {
	return func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		if c.RequestTimeout <= 0 || isSubscription(ctx) {
			// A subscription waits for events as long as its connection lives: the timeout would
			// end a quiet one.
			return next(ctx)
		}
		ctx, cancel := context.WithTimeout(ctx, c.RequestTimeout)
		defer cancel()
		return next(ctx)
	}
}

// limitProblems validates the settings of this file.
func (c *Config) limitProblems() []string {
	var problems []string
	for _, v := range []struct {
		name string
		n    int
	}{
		{"GRAPHQL_MAX_DEPTH", c.GraphQLMaxDepth}, {"GRAPHQL_MAX_ALIASES", c.GraphQLMaxAliases},
		{"GRAPHQL_MAX_DIRECTIVES", c.GraphQLMaxDirectives}, {"GRAPHQL_MAX_TOKENS", c.GraphQLMaxTokens},
		{"GRAPHQL_MAX_DOCUMENT_BYTES", c.GraphQLMaxDocumentBytes}, {"GRAPHQL_MAX_COMPLEXITY", c.GraphQLMaxComplexity},
		{"MAX_BODY_BYTES", c.MaxBodyBytes},
	} {
		if v.n < 0 {
			problems = append(problems, v.name+" must not be negative (0 disables it)")
		}
	}
	if c.WSInitTimeout <= 0 {
		problems = append(problems, "WS_INIT_TIMEOUT must be positive")
	}
	if c.WSPingInterval < 0 || c.WSMaxConnectionsPerAddress < 0 || c.WSMaxSubscriptions < 0 {
		problems = append(problems, "WS_PING_INTERVAL, WS_MAX_CONNECTIONS_PER_ADDRESS and WS_MAX_SUBSCRIPTIONS must not be negative (0 disables them)")
	}
	if c.WSEventQueue < 1 {
		problems = append(problems, "WS_EVENT_QUEUE must be at least 1")
	}
	if c.RequestTimeout < 0 {
		problems = append(problems, "REQUEST_TIMEOUT must not be negative (0 disables it)")
	}
	return problems
}
