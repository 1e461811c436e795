// Command execgen is the project's GraphQL code generation: it runs gqlgen exactly as
// `go tool gqlgen generate` does, then rewrites gqlgen's executor (graph/generated.go) in seven narrow,
// named ways, and writes the table the first rewrite consults (graph/concurrency_gen.go). It is run
// by `go generate ./graph` (graph/generate.go); .ci/run checks that its output is committed.
//
// The rewrites (rewrite.go) fail the generation unless they find exactly the code shapes they
// expect, so a gqlgen upgrade that changes its output cannot silently bypass or break them:
//
//   - lists: every `graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, …)` becomes
//     `marshalList(ctx, sel, len(v), …)` (graph/execution.go), which marshals the elements one
//     after the other when nothing selected under the list resolves on a goroutine of its own
//     (no resolver, no method taking a context, no batch resolver and so no loader: the table
//     below, from gqlgen's own binding of schema and gqlgen.yml), and otherwise calls
//     MarshalSliceConcurrently as before. gqlgen starts one goroutine per element of every
//     list of objects (upstream issues #3202, #4269, #4321).
//   - deferred groups: every `deferred := graphql.NewDeferredGroup(ctx)` becomes
//     `deferred := newDeferredGroup(ctx, fields)`, which builds the group (its path, field set
//     and map) only when one of the object's collected fields carries @defer; otherwise the zero
//     group, which the generated code only reads through len(deferred.Defers).
//   - object fields: every object marshaller's `return out` becomes
//     `return &objectFields{fields: fields, Values: out.Values}`, which writes the same JSON
//     without FieldSet's per-object map, iterators and field copies (rewriteObjectReturns).
//   - objects resolved in line: an object marshaller that schedules nothing on its field set
//     fills `out := newObjectFields(fields)` instead and returns it (rewriteObjectReturns).
//   - response buffers: a query's `var buf bytes.Buffer` into which the data is marshalled becomes
//     marshalResponse(opCtx.Operation, data), which writes into a buffer of the size of the
//     operation's last response rather than one growing from nothing by doubling.
//   - collected fields: every `graphql.CollectFields(ec.OperationContext, sel, xImplementors)`
//     becomes `ec.collected.fields(…)`, a memo kept in the executor's per-operation state (a field
//     the rewrite adds to executionContext) that answers gqlgen's own result without the FNV
//     hasher gqlgen's cache key allocates on every call, once per object of the response.
//   - plain fields: a field bound to a struct field, with no resolver, method or directive, is
//     marshalled straight from the struct (a scalar whose marshaller cannot reach its context: as
//     the struct field's address, when the object is given by pointer) or through resolvePlain
//     (any other concrete type; an object whose selection is only such scalars, with no field
//     context at all) when the operation has no field middleware (plainfields.go); otherwise it
//     goes through graphql.ResolveField as before.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/99designs/gqlgen/api"
	"github.com/99designs/gqlgen/codegen"
	"github.com/99designs/gqlgen/codegen/config"
)

// tableFile is written beside the executor, in its package.
const tableFile = "concurrency_gen.go"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "execgen:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.LoadConfigFromDefaultLocations() // enters the directory of gqlgen.yml
	if err != nil {
		return err
	}
	table := &tableWriter{path: filepath.Join(filepath.Dir(cfg.Exec.Filename), tableFile), pkg: cfg.Exec.Package}
	if err := api.Generate(cfg, api.AddPlugin(table)); err != nil {
		return err
	}
	if !table.written {
		return fmt.Errorf("gqlgen did not run the plugin that writes %s", table.path)
	}
	src, err := os.ReadFile(cfg.Exec.Filename)
	if err != nil {
		return err
	}
	out, err := Rewrite(src)
	if err != nil {
		return fmt.Errorf("%s: %w", cfg.Exec.Filename, err)
	}
	return os.WriteFile(cfg.Exec.Filename, out, 0o644)
}

// tableWriter is a gqlgen plugin that writes the concurrency table from gqlgen's binding of the
// schema, before gqlgen type-checks the package it generates into (which calls the table).
type tableWriter struct {
	path, pkg string
	written   bool
}

func (t *tableWriter) Name() string { return "execgen" }

func (t *tableWriter) GenerateCode(data *codegen.Data) error {
	t.written = true
	return os.WriteFile(t.path, concurrencyTable(t.pkg, data), 0o644)
}
