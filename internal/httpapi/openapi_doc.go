package httpapi

import (
	"reflect"

	"github.com/danielgtaylor/huma/v2"

	"myapi/internal/jobs"
)

// The OpenAPI document is what frontends generate their clients from
// (api/openapi.json is the committed copy, clients/typescript the client).
// This file holds what the document says beyond the operations: the API's
// description, tags, servers, contact and licence, and the finishing pass
// that makes the schemas say what the server does in the form generators
// turn into idiomatic types.

// apiDescription introduces the API in the docs and in generated clients.
const apiDescription = `Users, JWT authentication with rotating refresh tokens, and items with owners.

**Authentication.** Log in with the OAuth2 password form (` + "`POST /auth/login`" + `), then send
` + "`Authorization: Bearer <access_token>`" + `. Exchange the refresh token for a new pair at
` + "`POST /auth/refresh`" + `: the old one stops working, and presenting it again ends the whole session.

**Errors** are RFC 9457 problem details (` + "`application/problem+json`" + `) whose ` + "`detail`" + ` says what
went wrong, naming each invalid field; a 422 also lists them in ` + "`errors`" + `.

**Lists** take ` + "`skip`" + ` (≥ 0) and ` + "`limit`" + ` (1–100, default 10) and are ordered by id.

**Rate limits** answer 429 with ` + "`Retry-After`" + ` (seconds).`

// tag declares a group of operations and what it holds, in the document's
// tags (a generated client has one service class per tag), and returns it
// for the operations' Tags. Each group declares its tag where it registers
// its routes, once; the document lists them in that order.
func tag(api huma.API, name, description string) []string {
	oapi := api.OpenAPI()
	for _, t := range oapi.Tags {
		if t.Name == name {
			panic("httpapi: tag " + name + " declared twice")
		}
	}
	oapi.Tags = append(oapi.Tags, &huma.Tag{Name: name, Description: description})
	return []string{name}
}

// The document's contact and licence. The repository has no licence
// file, so no rights are granted: change both here if that changes.
var (
	apiContact = &huma.Contact{Name: "myapi maintainers"}
	apiLicense = &huma.License{Name: "Proprietary", Identifier: "LicenseRef-Proprietary"}
)

// apiServers is relative: the document describes the server that serves
// it, wherever it runs (Swagger UI's "Try it out" calls that server).
var apiServers = []*huma.Server{{URL: "/", Description: "The server that serves this document"}}

// problemSchema is the name of the error body's schema, and the fields
// every error carries.
const problemSchema = "Problem"

var problemRequired = []string{"title", "status", "detail"}

// schemaNames names the schemas of types from other packages for what
// they are; every other type is named by huma's default (its Go name).
var schemaNames = map[reflect.Type]string{
	reflect.TypeFor[huma.ErrorModel](): problemSchema,
	reflect.TypeFor[jobs.Count]():      "JobCount",
}

// schemaName is the registry's namer.
func schemaName(t reflect.Type, hint string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if name, ok := schemaNames[t]; ok {
		return name
	}
	return huma.DefaultSchemaNamer(t, hint)
}

// describeAPI completes the document once every operation is registered.
func describeAPI(api huma.API) {
	oapi := api.OpenAPI()
	oapi.Info.Description = apiDescription
	oapi.Info.Contact = apiContact
	oapi.Info.License = apiLicense
	oapi.Servers = apiServers

	registry := oapi.Components.Schemas
	for _, item := range oapi.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Post, item.Put, item.Patch, item.Delete} {
			if op != nil {
				describeOperation(registry, op)
			}
		}
	}
	if p := registry.Map()[problemSchema]; p != nil {
		p.Description = "An error (RFC 9457 problem details). `detail` is the human-readable explanation " +
			"clients show; `errors` lists each invalid field of a 422."
		p.Required = problemRequired
	}
	forEachSchema(oapi, func(s *huma.Schema) {
		// Every list is sent as [] when empty, never null (huma types a Go
		// slice as nullable).
		if s.Type == huma.TypeArray {
			s.Nullable = false
		}
	})
}

// describeOperation makes one operation say what the server does.
func describeOperation(registry huma.Registry, op *huma.Operation) {
	// An operation that needs no token says so: otherwise linters and
	// clients cannot tell public from forgotten.
	if op.Security == nil {
		op.Security = []map[string][]string{}
	}
	for _, p := range op.Parameters {
		if p.Schema != nil && p.Schema.Deprecated {
			p.Deprecated = true
		}
	}
	if op.RequestBody == nil {
		return
	}
	content := op.RequestBody.Content
	if json, ok := content["application/json"]; ok {
		// A handler that also reads the raw body makes huma list
		// application/octet-stream, which the server refuses with 415.
		delete(content, "application/octet-stream")
		openRequestSchema(registry, json.Schema)
	}
}

// openRequestSchema leaves additionalProperties out of a request body's
// schema where it is true. The server ignores unknown fields, as the
// seed does; JSON Schema allows them when additionalProperties is absent
// too, but generated clients then type the body without an index
// signature, so a misspelt field fails to compile instead of being sent.
func openRequestSchema(registry huma.Registry, s *huma.Schema) {
	if s != nil && s.Ref != "" {
		s = registry.SchemaFromRef(s.Ref)
	}
	if s == nil {
		return
	}
	if open, ok := s.AdditionalProperties.(bool); ok && open {
		s.AdditionalProperties = nil
	}
}

// forEachSchema calls fn on every schema of the document: the named ones
// and those inline in parameters, bodies and responses, and their parts.
func forEachSchema(oapi *huma.OpenAPI, fn func(*huma.Schema)) {
	seen := map[*huma.Schema]bool{}
	var walk func(s *huma.Schema)
	walk = func(s *huma.Schema) {
		if s == nil || seen[s] {
			return
		}
		seen[s] = true
		fn(s)
		walk(s.Items)
		if sub, ok := s.AdditionalProperties.(*huma.Schema); ok {
			walk(sub)
		}
		for _, sub := range s.Properties {
			walk(sub)
		}
		for _, list := range [][]*huma.Schema{s.OneOf, s.AnyOf, s.AllOf} {
			for _, sub := range list {
				walk(sub)
			}
		}
		walk(s.Not)
	}
	for _, s := range oapi.Components.Schemas.Map() {
		walk(s)
	}
	for _, item := range oapi.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Post, item.Put, item.Patch, item.Delete} {
			if op == nil {
				continue
			}
			for _, p := range op.Parameters {
				walk(p.Schema)
			}
			if op.RequestBody != nil {
				for _, mt := range op.RequestBody.Content {
					walk(mt.Schema)
				}
			}
			for _, r := range op.Responses {
				for _, mt := range r.Content {
					walk(mt.Schema)
				}
				for _, h := range r.Headers {
					walk(h.Schema)
				}
			}
		}
	}
}
