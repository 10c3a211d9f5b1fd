package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"myapi/internal/access"
	"myapi/internal/items"
	"myapi/internal/patch"
)

// Item is an item as clients see it, the seed's fields.
type Item struct {
	ID          int64   `json:"id" example:"1"`
	Title       string  `json:"title" example:"Desk lamp"`
	Description *string `json:"description" example:"Brass, 1950s"`
	Price       float64 `json:"price" example:"49.5"`
	OwnerID     int64   `json:"owner_id" example:"1"`
}

// ItemOutput wraps one Item.
type ItemOutput struct {
	Body Item
}

// ItemListOutput wraps a page of items.
type ItemListOutput struct {
	Body []Item
}

// cachedJSONOutput is a JSON body encoded once (by the handler on a miss,
// or earlier and kept by the cache), written as is, so that a HIT is
// byte-for-byte the response of the MISS that filled it. Its documented
// schema is set per operation (jsonResponse).
type cachedJSONOutput struct {
	ContentType string `header:"Content-Type" hidden:"true"`
	Cache       string `header:"X-Cache" enum:"HIT,MISS"`
	Body        []byte
}

func toItem(it *items.Item) Item {
	return Item{ID: it.ID, Title: it.Title, Description: it.Description, Price: it.Price, OwnerID: it.OwnerID}
}

// ItemCreate is a new item. The owner is whoever creates it.
type ItemCreate struct {
	_           struct{} `additionalProperties:"true"`
	Title       string   `json:"title" minLength:"1" maxLength:"200" example:"Desk lamp"`
	Description *string  `json:"description,omitempty" nullable:"true" maxLength:"10000" example:"Brass, 1950s"`
	Price       float64  `json:"price" exclusiveMinimum:"0" example:"49.5"`
}

// ItemUpdate changes the fields it names. title and price may not be null;
// description may be null, which clears it.
type ItemUpdate struct {
	_           struct{}               `additionalProperties:"true"`
	Title       patch.Field[string]    `json:"title,omitzero" minLength:"1" maxLength:"200"`
	Description patch.Nullable[string] `json:"description,omitzero" maxLength:"10000"`
	Price       patch.Field[float64]   `json:"price,omitzero" exclusiveMinimum:"0"`
}

// ItemIDInput names an item in the path.
type ItemIDInput struct {
	ItemID int64 `path:"item_id" doc:"The item's id"`
}

func (s *server) registerItems(api huma.API) {
	tags := tag(api, "items", "Things users own and offer at a price.")
	owner := access.OwnerOrSuperuser("item_id", s.itemOwner)
	register(s, api, huma.Operation{
		OperationID: "create-item", Method: http.MethodPost, Path: "/items", Summary: "Create an item",
		Description: "Adds an item owned by the authenticated user.",
		Tags:        tags, DefaultStatus: http.StatusCreated,
		Errors: []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusUnprocessableEntity},
	}, access.AnyUser(), access.General, func(ctx context.Context, in *struct{ Body ItemCreate }) (*ItemOutput, error) {
		it := &items.Item{Title: in.Body.Title, Description: in.Body.Description, Price: in.Body.Price, OwnerID: currentUser(ctx).ID}
		if err := s.Store.CreateItem(ctx, it); err != nil {
			return nil, err
		}
		return &ItemOutput{Body: toItem(it)}, nil
	}, invalidates{depItemList})

	register(s, api, huma.Operation{
		OperationID: "list-items", Method: http.MethodGet, Path: "/items", Summary: "List items, by id",
		Description: "A page of everyone's items, ordered by id.",
		Tags:        tags, Errors: []int{http.StatusUnprocessableEntity},
		Responses: jsonResponse[[]Item](api, "ListItemsResponse"),
	}, access.Anyone(), access.General, func(ctx context.Context, in *Page) (*cachedJSONOutput, error) {
		load := func(ctx context.Context) ([]byte, error) {
			list, err := s.Store.ListItems(ctx, in.Skip, in.Limit)
			if err != nil {
				return nil, err
			}
			out := make([]Item, len(list))
			for i, it := range list {
				out[i] = toItem(it)
			}
			return encodeJSON(out)
		}
		entry := "list:" + strconv.FormatInt(in.Skip, 10) + ":" + strconv.FormatInt(in.Limit, 10)
		body, hit, err := s.cached(ctx, entry, load)
		if err != nil {
			return nil, s.cacheHeader(err)
		}
		return s.cachedJSON(body, hit), nil
	}, cachedBy{depItemList})

	register(s, api, huma.Operation{
		OperationID: "get-item", Method: http.MethodGet, Path: "/items/{item_id}", Summary: "An item",
		Description: "One item by its id.",
		Tags:        tags, Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity},
		Responses: jsonResponse[Item](api, "Item"),
	}, access.Anyone(), access.General, func(ctx context.Context, in *ItemIDInput) (*cachedJSONOutput, error) {
		load := func(ctx context.Context) ([]byte, error) {
			it, err := s.Store.ItemByID(ctx, in.ItemID)
			if err != nil {
				return nil, err
			}
			return encodeJSON(toItem(it))
		}
		// A 404 is not cached: the next request asks the database again,
		// so an id that starts to exist is found at once.
		body, hit, err := s.cached(ctx, "item:"+strconv.FormatInt(in.ItemID, 10), load)
		if err != nil {
			return nil, s.cacheHeader(err)
		}
		return s.cachedJSON(body, hit), nil
	}, cachedBy{depItem("item_id")})
	for _, path := range []string{"/items", "/items/{item_id}"} {
		if h := api.OpenAPI().Paths[path].Get.Responses["200"].Headers["X-Cache"]; h != nil {
			h.Description = xCacheDoc
		}
	}

	register(s, api, huma.Operation{
		OperationID: "update-item", Method: http.MethodPut, Path: "/items/{item_id}",
		Summary: "Change an item; omitted fields stay", Tags: tags,
		Description: "Changes the fields the body names; the others stay as they are. " +
			"`description: null` clears the description; `title` and `price` cannot be null.",
		Errors: []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity},
	}, owner, access.Change, func(ctx context.Context, in *itemUpdateInput) (*ItemOutput, error) {
		b := in.Body
		it, err := s.Store.UpdateItem(ctx, in.ItemID, items.Update{Title: b.Title, Price: b.Price, Description: b.Description})
		if err != nil {
			return nil, err
		}
		return &ItemOutput{Body: toItem(it)}, nil
	}, invalidates{depItem("item_id"), depItemList})

	register(s, api, huma.Operation{
		OperationID: "delete-item", Method: http.MethodDelete, Path: "/items/{item_id}",
		Summary: "Delete an item", Tags: tags,
		Description:   "Deletes the item for good.",
		DefaultStatus: http.StatusNoContent,
		Errors:        []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity},
	}, owner, access.General, func(ctx context.Context, in *ItemIDInput) (*struct{}, error) {
		return nil, s.Store.DeleteItem(ctx, in.ItemID)
	}, invalidates{depItem("item_id"), depItemList})
}

// itemOwner is the owner of item id, for the owner rule.
func (s *server) itemOwner(ctx context.Context, id int64) (int64, error) {
	it, err := s.Store.ItemByID(ctx, id)
	if err != nil {
		return 0, err
	}
	return it.OwnerID, nil
}

// itemUpdateInput is the input of PUT /items/{item_id}.
type itemUpdateInput struct {
	ItemIDInput
	Body ItemUpdate
}

// jsonResponse documents a 200 JSON response of type T for an operation
// whose handler writes pre-encoded bytes (which huma would otherwise
// document as an opaque binary string).
func jsonResponse[T any](api huma.API, hint string) map[string]*huma.Response {
	return map[string]*huma.Response{
		"200": {
			Description: http.StatusText(http.StatusOK),
			Content: map[string]*huma.MediaType{"application/json": {
				Schema: api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[T](), true, hint),
			}},
		},
	}
}

// encodeJSON encodes v exactly as huma encodes response bodies (no HTML
// escaping, a final newline), so that cached responses look like the rest.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// cachedJSON is the output for body; X-Cache is set when a cache is
// configured.
func (s *server) cachedJSON(body []byte, hit bool) *cachedJSONOutput {
	out := &cachedJSONOutput{ContentType: "application/json", Body: body}
	if s.Cache != nil {
		out.Cache = xCache(hit)
	}
	return out
}

// cacheHeader adds "X-Cache: MISS" to the error of a cached route (errors
// are never cached) when a cache is configured.
func (s *server) cacheHeader(err error) error {
	if s.Cache == nil || err == nil {
		return err
	}
	return huma.ErrorWithHeaders(err, http.Header{"X-Cache": {xCache(false)}})
}

const xCacheDoc = "`HIT`: served from the cache (at most CACHE_TTL_SECONDS old, and never older than a write " +
	"that has returned); `MISS`: read from the database. Absent when the server runs without a cache."

func xCache(hit bool) string {
	if hit {
		return "HIT"
	}
	return "MISS"
}
