// A small typed client: Apollo Client 4 infers data and variables from the TypedDocumentNodes
// codegen.ts generates. The e2e suite regenerates them from the live server and runs
// `tsc --noEmit` on this file, so a schema change that breaks it fails the suite.
import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';
import { CatalogDocument, LoginDocument } from './generated/graphql';

export function createClient(uri: string) {
  return new ApolloClient({
    link: new HttpLink({ uri }),
    cache: new InMemoryCache({ typePolicies: { Query: { fields: { products: relayStylePagination(['categoryId']) } } } }),
  });
}

export async function firstPrices(client: ApolloClient, email: string, password: string): Promise<number[]> {
  const { data: login } = await client.mutate({ mutation: LoginDocument, variables: { email, password } });
  // Time is mapped to string: this is an RFC 3339 text, not unknown.
  const expires: string = login!.login.accessTokenExpiresAt;
  void expires;
  // @ts-expect-error variables are checked: first is an Int
  void client.query({ query: CatalogDocument, variables: { first: 'ten' } });
  const { data } = await client.query({ query: CatalogDocument, variables: { first: 3 } });
  const edges = data?.products.edges ?? [];
  // @ts-expect-error results are typed: price is a number (this line fails to compile if it were any)
  const wrong: string = edges[0].node.price;
  void wrong;
  const cursor: string | null = data?.products.pageInfo.endCursor ?? null;
  void cursor;
  return edges.map((e) => e.node.price);
}
