package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"myapi/internal/access"
	"myapi/internal/patch"
	"myapi/internal/users"
)

// User is an account as clients see it: never the password hash.
type User struct {
	ID          int64     `json:"id" example:"1"`
	Email       string    `json:"email" example:"alice@example.com"`
	Username    string    `json:"username" example:"alice"`
	IsActive    bool      `json:"is_active"`
	IsSuperuser bool      `json:"is_superuser"`
	CreatedAt   time.Time `json:"created_at" doc:"RFC 3339, UTC"`
}

// UserOutput wraps one User.
type UserOutput struct {
	CacheControl string `header:"Cache-Control" doc:"no-store: a user's data is never cached"`
	Body         User
}

// UserListOutput wraps a page of users.
type UserListOutput struct {
	CacheControl string `header:"Cache-Control" doc:"no-store: users' data is never cached"`
	Body         []User
}

func toUser(u *users.User) User {
	return User{ID: u.ID, Email: u.Email, Username: u.Username, IsActive: u.IsActive, IsSuperuser: u.IsSuperuser, CreatedAt: u.CreatedAt}
}

func userOutput(u *users.User) *UserOutput {
	return &UserOutput{CacheControl: noStore, Body: toUser(u)}
}

// UserUpdateMe is what users may change about themselves. Omitted fields
// stay as they are; null is refused, since neither field may be empty.
type UserUpdateMe struct {
	_        struct{}            `additionalProperties:"true"`
	Email    patch.Field[string] `json:"email,omitzero" format:"email" maxLength:"254"`
	Username patch.Field[string] `json:"username,omitzero" minLength:"3" maxLength:"50"`
	// CurrentPassword proves a change of email, unless the session logged
	// in within FRESH_LOGIN_MINUTES.
	CurrentPassword patch.Field[string] `json:"current_password,omitzero" maxLength:"100" format:"password" doc:"Needed to change the email unless the session logged in with its password in the last few minutes (FRESH_LOGIN_MINUTES)"`
}

// UserUpdateAdmin is what a superuser may change about any user.
type UserUpdateAdmin struct {
	_           struct{}            `additionalProperties:"true"`
	Email       patch.Field[string] `json:"email,omitzero" format:"email" maxLength:"254"`
	Username    patch.Field[string] `json:"username,omitzero" minLength:"3" maxLength:"50"`
	IsActive    patch.Field[bool]   `json:"is_active,omitzero"`
	IsSuperuser patch.Field[bool]   `json:"is_superuser,omitzero"`
	// CurrentPassword is the acting superuser's: see UserUpdateMe.
	CurrentPassword patch.Field[string] `json:"current_password,omitzero" maxLength:"100" format:"password" doc:"The acting superuser's password: needed to change the email unless the session logged in with its password in the last few minutes (FRESH_LOGIN_MINUTES)"`
}

// Page is the skip/limit query of every list.
type Page struct {
	Skip  int64 `query:"skip" minimum:"0" default:"0" doc:"How many records to skip"`
	Limit int64 `query:"limit" minimum:"1" maximum:"100" default:"10" doc:"How many records to return (1-100)"`
}

// UserIDInput names a user in the path.
type UserIDInput struct {
	UserID int64 `path:"user_id" doc:"The user's id"`
}

func (s *server) registerUsers(api huma.API) {
	tags := tag(api, "users", "Accounts: one's own, and everyone's for superusers (activate, deactivate, promote, delete).")
	register(s, api, huma.Operation{
		OperationID: "get-me", Method: http.MethodGet, Path: "/users/me", Summary: "The current user",
		Description: "The account the access token belongs to.",
		Tags:        tags, Errors: []int{http.StatusUnauthorized, http.StatusForbidden},
	}, access.AnyUser(), access.General, func(ctx context.Context, _ *struct{}) (*UserOutput, error) {
		return userOutput(currentUser(ctx)), nil
	})

	register(s, api, huma.Operation{
		OperationID: "update-me", Method: http.MethodPut, Path: "/users/me", Summary: "Change the current user's email or username",
		Description: "Changes the fields the body names; the others stay as they are. Neither may be null. " +
			"Email and username stay unique, ignoring case (400 when taken). " +
			"Changing the email needs `current_password`, or a password login in the last few minutes (FRESH_LOGIN_MINUTES); " +
			"the old address is told, and pending reset tokens stop working.",
		Tags:   tags,
		Errors: []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusUnprocessableEntity, http.StatusTooManyRequests},
	}, access.AnyUser(), access.Change, func(ctx context.Context, in *updateMeInput) (*UserOutput, error) {
		upd := users.Update{Username: in.Body.Username, Email: normalizedEmail(in.Body.Email)}
		u, err := s.updateUser(ctx, currentUser(ctx).ID, upd, in.Body.CurrentPassword.Ptr())
		if err != nil {
			return nil, err
		}
		return userOutput(u), nil
	}, noCachedData)

	register(s, api, huma.Operation{
		OperationID: "list-users", Method: http.MethodGet, Path: "/users", Summary: "List users",
		Description: "A page of accounts, ordered by id.",
		Tags:        tags,
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusUnprocessableEntity},
	}, access.Superuser(), access.General, func(ctx context.Context, in *Page) (*UserListOutput, error) {
		list, err := s.Store.ListUsers(ctx, in.Skip, in.Limit)
		if err != nil {
			return nil, err
		}
		out := &UserListOutput{CacheControl: noStore, Body: make([]User, len(list))}
		for i, u := range list {
			out.Body[i] = toUser(u)
		}
		return out, nil
	})

	register(s, api, huma.Operation{
		OperationID: "get-user", Method: http.MethodGet, Path: "/users/{user_id}", Summary: "A user",
		Description: "One account by its id.",
		Tags:        tags,
		Errors:      []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity},
	}, access.SelfOrSuperuser("user_id"), access.General, func(ctx context.Context, in *UserIDInput) (*UserOutput, error) {
		u, err := s.Store.UserByID(ctx, in.UserID)
		if err != nil {
			return nil, err
		}
		return userOutput(u), nil
	})

	register(s, api, huma.Operation{
		OperationID: "update-user", Method: http.MethodPatch, Path: "/users/{user_id}",
		Summary: "Change a user: activate, deactivate, promote, rename",
		Description: "Changes the fields the body names; the others stay as they are, and none may be null. " +
			"Deactivating a user ends all their sessions. A superuser cannot deactivate or demote itself, nor the last active superuser. " +
			"Changing the email needs the acting superuser's `current_password` or a recent login.",
		Tags:   tags,
		Errors: []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity, http.StatusTooManyRequests},
	}, access.Superuser(), access.Change, func(ctx context.Context, in *updateUserInput) (*UserOutput, error) {
		me := currentUser(ctx)
		b := in.Body
		upd := users.Update{
			Username: b.Username, Email: normalizedEmail(b.Email),
			IsActive: b.IsActive, IsSuperuser: b.IsSuperuser,
		}
		if users.CheckAdminChange(me, in.UserID, upd, false) != nil {
			return nil, huma.Error403Forbidden("Superusers cannot demote or deactivate themselves")
		}
		u, err := s.updateUser(ctx, in.UserID, upd, b.CurrentPassword.Ptr())
		if err != nil {
			return nil, err
		}
		return userOutput(u), nil
	}, noCachedData)

	register(s, api, huma.Operation{
		OperationID: "delete-user", Method: http.MethodDelete, Path: "/users/{user_id}",
		Summary: "Delete a user and their items", Tags: tags,
		Description:   "Deletes the account with its items and sessions. A superuser cannot delete itself.",
		DefaultStatus: http.StatusNoContent,
		Errors:        []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity},
	}, access.Superuser(), access.General, func(ctx context.Context, in *UserIDInput) (*struct{}, error) {
		if users.CheckAdminChange(currentUser(ctx), in.UserID, users.Update{}, true) != nil {
			return nil, huma.Error403Forbidden("Superusers cannot delete themselves")
		}
		return nil, s.Store.DeleteUser(ctx, in.UserID)
	}, invalidates{depEverything}) // their items go with them
}

// updateMeInput is the input of PUT /users/me.
type updateMeInput struct {
	Body UserUpdateMe
}

// updateUserInput is the input of PATCH /users/{user_id}.
type updateUserInput struct {
	UserIDInput
	Body UserUpdateAdmin
}

// normalizedEmail is the email a body sets, normalized, or absent.
func normalizedEmail(f patch.Field[string]) patch.Field[string] {
	e, ok := f.Get()
	if !ok {
		return patch.Field[string]{}
	}
	return patch.Value(users.NormalizeEmail(e))
}
