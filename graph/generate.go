package graph

// The whole code generation: gqlgen, then the project's rewrites of its executor (internal/execgen
// says which and why). Run `go generate ./graph` after changing schema.graphqls or gqlgen.yml.
//go:generate go run ../internal/execgen
