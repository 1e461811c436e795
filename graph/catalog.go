package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/shopql/shopql/store"
)

// unreadColumns are the product columns that the Query.products field being resolved in ctx
// never shows, which its page need not read. It collects the fields as execution will (fragments,
// aliases, @skip and @include) under items and edges.node. A field it does not know needs
// everything: a column left out by mistake would answer a wrong value, silently, where reading
// one too many only costs time.
func unreadColumns(ctx context.Context) store.Columns {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Object != "Query" || fc.Field.Name != "products" {
		return 0 // not resolving the field: its selection is not known
	}
	op := graphql.GetOperationContext(ctx)
	return store.AllColumns &^ catalogColumns(op, fc.Field.Selections)
}

// catalogColumns are the columns that a ProductCatalog selection reads.
func catalogColumns(op *graphql.OperationContext, sel ast.SelectionSet) store.Columns {
	var read store.Columns
	for _, f := range graphql.CollectFields(op, sel, productCatalogImplementors) {
		switch f.Name {
		case "items":
			read |= productColumns(op, f.Selections)
		case "edges":
			read |= edgeColumns(op, f.Selections)
		case "detailed", "names", "message", "totalCount", "pageInfo", "__typename":
		default:
			return store.AllColumns
		}
	}
	return read
}

// edgeColumns are the columns that a ProductEdge selection reads.
func edgeColumns(op *graphql.OperationContext, sel ast.SelectionSet) store.Columns {
	var read store.Columns
	for _, f := range graphql.CollectFields(op, sel, productEdgeImplementors) {
		switch f.Name {
		case "node":
			read |= productColumns(op, f.Selections)
		case "cursor", "__typename":
		default:
			return store.AllColumns
		}
	}
	return read
}

// productColumns are the columns that a Product selection reads. Its ID and name are always read.
func productColumns(op *graphql.OperationContext, sel ast.SelectionSet) store.Columns {
	var read store.Columns
	for _, f := range graphql.CollectFields(op, sel, productImplementors) {
		switch f.Name {
		case "description":
			read |= store.ColumnDescription
		case "price":
			read |= store.ColumnPrice
		case "quantity":
			read |= store.ColumnQuantity
		case "category":
			read |= store.ColumnCategory
		case "id", "name", "__typename":
		default:
			return store.AllColumns
		}
	}
	return read
}
