package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"myapi/internal/items"
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

func toItem(it *items.Item) Item {
	return Item{ID: it.ID, Title: it.Title, Description: it.Description, Price: it.Price, OwnerID: it.OwnerID}
}

// ItemCreate is a new item. The owner is whoever creates it.
type ItemCreate struct {
	_           struct{} `additionalProperties:"true"`
	Title       string   `json:"title" minLength:"1" maxLength:"200" example:"Desk lamp"`
	Description *string  `json:"description,omitempty" maxLength:"10000" example:"Brass, 1950s"`
	Price       float64  `json:"price" exclusiveMinimum:"0" example:"49.5"`
}

// Resolve rejects control characters.
func (b *ItemCreate) Resolve(_ huma.Context, pb *huma.PathBuffer) []error {
	errs := []error{checkText(pb, "title", b.Title, false)}
	if b.Description != nil {
		errs = append(errs, checkText(pb, "description", *b.Description, true))
	}
	return collect(errs...)
}

// ItemUpdate changes the fields it names. title and price may not be null;
// description may be null, which clears it.
type ItemUpdate struct {
	_           struct{} `additionalProperties:"true"`
	Title       *string  `json:"title,omitempty" minLength:"1" maxLength:"200"`
	Description *string  `json:"description,omitempty" nullable:"true" maxLength:"10000"`
	Price       *float64 `json:"price,omitempty" exclusiveMinimum:"0"`
}

// Resolve rejects control characters.
func (b *ItemUpdate) Resolve(_ huma.Context, pb *huma.PathBuffer) []error {
	errs := []error{}
	if b.Title != nil {
		errs = append(errs, checkText(pb, "title", *b.Title, false))
	}
	if b.Description != nil {
		errs = append(errs, checkText(pb, "description", *b.Description, true))
	}
	return collect(errs...)
}

// ItemIDInput names an item in the path.
type ItemIDInput struct {
	ItemID int64 `path:"item_id" doc:"The item's id"`
}

func (s *server) registerItems(api huma.API) {
	tags := []string{"items"}
	huma.Register(api, s.op(huma.Operation{
		OperationID: "create-item", Method: http.MethodPost, Path: "/items", Summary: "Create an item",
		Tags: tags, Security: authenticated, DefaultStatus: http.StatusCreated,
		Errors: []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *struct{ Body ItemCreate }) (*ItemOutput, error) {
		it := &items.Item{Title: in.Body.Title, Description: in.Body.Description, Price: in.Body.Price, OwnerID: currentUser(ctx).ID}
		if err := s.Items.CreateItem(ctx, it); err != nil {
			return nil, s.fail(ctx, err)
		}
		return &ItemOutput{Body: toItem(it)}, nil
	})

	huma.Register(api, s.op(huma.Operation{
		OperationID: "list-items", Method: http.MethodGet, Path: "/items", Summary: "List items, by id",
		Tags: tags, Errors: []int{http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *Page) (*ItemListOutput, error) {
		list, err := s.Items.ListItems(ctx, in.Skip, in.Limit)
		if err != nil {
			return nil, s.fail(ctx, err)
		}
		out := &ItemListOutput{Body: make([]Item, len(list))}
		for i, it := range list {
			out.Body[i] = toItem(it)
		}
		return out, nil
	})

	huma.Register(api, s.op(huma.Operation{
		OperationID: "get-item", Method: http.MethodGet, Path: "/items/{item_id}", Summary: "An item",
		Tags: tags, Errors: []int{http.StatusNotFound, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *ItemIDInput) (*ItemOutput, error) {
		it, err := s.Items.ItemByID(ctx, in.ItemID)
		if err != nil {
			return nil, s.itemError(ctx, err)
		}
		return &ItemOutput{Body: toItem(it)}, nil
	})

	huma.Register(api, s.op(huma.Operation{
		OperationID: "update-item", Method: http.MethodPut, Path: "/items/{item_id}",
		Summary: "Change an item (owner or superuser); omitted fields stay", Tags: tags, Security: authenticated,
		Errors: []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *struct {
		ItemIDInput
		Body    ItemUpdate
		RawBody []byte
	}) (*ItemOutput, error) {
		if err := refuseNulls(in.RawBody, "title", "price"); err != nil {
			return nil, err
		}
		if err := s.checkItemOwner(ctx, in.ItemID); err != nil {
			return nil, err
		}
		upd := items.Update{
			Title:          in.Body.Title,
			Price:          in.Body.Price,
			Description:    in.Body.Description,
			SetDescription: in.Body.Description != nil || explicitNulls(in.RawBody)["description"],
		}
		it, err := s.Items.UpdateItem(ctx, in.ItemID, upd)
		if err != nil {
			return nil, s.itemError(ctx, err)
		}
		return &ItemOutput{Body: toItem(it)}, nil
	})

	huma.Register(api, s.op(huma.Operation{
		OperationID: "delete-item", Method: http.MethodDelete, Path: "/items/{item_id}",
		Summary: "Delete an item (owner or superuser)", Tags: tags, Security: authenticated,
		DefaultStatus: http.StatusNoContent,
		Errors:        []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity},
	}), func(ctx context.Context, in *ItemIDInput) (*struct{}, error) {
		if err := s.checkItemOwner(ctx, in.ItemID); err != nil {
			return nil, err
		}
		if err := s.Items.DeleteItem(ctx, in.ItemID); err != nil {
			return nil, s.itemError(ctx, err)
		}
		return nil, nil
	})
}

// checkItemOwner answers 404 for a missing item and 403 for someone
// else's, in the seed's order.
func (s *server) checkItemOwner(ctx context.Context, id int64) error {
	it, err := s.Items.ItemByID(ctx, id)
	if err != nil {
		return s.itemError(ctx, err)
	}
	if !items.CanModify(currentUser(ctx), it) {
		return huma.Error403Forbidden(msgForbidden)
	}
	return nil
}

func (s *server) itemError(ctx context.Context, err error) error {
	if errors.Is(err, items.ErrNotFound) {
		return huma.Error404NotFound(msgItemNotFound)
	}
	return s.fail(ctx, err)
}
