package httpapi

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"reflect"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"myapi/internal/access"
	"myapi/internal/auth"
	"myapi/internal/input"
)

// UserCreate is the registration form.
type UserCreate struct {
	_        struct{} `additionalProperties:"true"` // extra fields are ignored, as by the seed
	Email    string   `json:"email" format:"email" maxLength:"254" example:"alice@example.com"`
	Username string   `json:"username" minLength:"3" maxLength:"50" example:"alice"`
	Password string   `json:"password" minLength:"8" maxLength:"100" example:"correct horse battery"`
}

// Token is what login and refresh return.
type Token struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type" enum:"bearer" example:"bearer"`
	ExpiresIn    int64  `json:"expires_in" doc:"Seconds until the access token expires"`
}

// TokenOutput wraps Token.
type TokenOutput struct {
	CacheControl string `header:"Cache-Control" doc:"no-store: tokens are never cached (RFC 6749 §5.1)"`
	Pragma       string `header:"Pragma" doc:"no-cache, for HTTP/1.0 caches (RFC 6749 §5.1)"`
	Body         Token
}

// RefreshRequest carries a refresh token in a JSON body.
type RefreshRequest struct {
	_            struct{} `additionalProperties:"true"`
	RefreshToken string   `json:"refresh_token" minLength:"1"`
}

// RefreshInput takes the refresh token from the JSON body, or from the
// query string as the seed did (which leaks it into access logs: prefer
// the body).
type RefreshInput struct {
	RefreshToken string `query:"refresh_token" deprecated:"true" doc:"The seed's way, kept for its clients: it leaks the token into access logs. Send the JSON body instead."`
	Body         *RefreshRequest
}

func (in *RefreshInput) token() string {
	if in.Body != nil && in.Body.RefreshToken != "" {
		return in.Body.RefreshToken
	}
	return in.RefreshToken
}

// LoginInput is the OAuth2 password-flow form, read raw because it is
// form-encoded, not JSON.
type LoginInput struct {
	ContentType string `header:"Content-Type" hidden:"true"`
	RawBody     []byte `contentType:"application/x-www-form-urlencoded"`
}

// loginForm is the documented shape of LoginInput's body.
type loginForm struct {
	Username  string `json:"username"`
	Password  string `json:"password" format:"password"`
	GrantType string `json:"grant_type,omitempty" enum:"password," doc:"OAuth2's grant type; empty counts as absent, as the seed takes it"`
	Scope     string `json:"scope,omitempty"`
}

func (s *server) registerAuth(api huma.API) {
	tags := tag(api, "authentication", "Registration, the OAuth2 password login, refresh-token rotation, logout and password recovery.")
	register(s, api, huma.Operation{
		OperationID: "register", Method: http.MethodPost, Path: "/auth/register",
		Summary: "Register a user", Tags: tags,
		Description: "Creates an active account that is not a superuser and sends it a welcome email in the background. " +
			"Email and username are unique, ignoring case (400 when taken).",
		DefaultStatus: http.StatusCreated, Errors: []int{http.StatusBadRequest, http.StatusUnprocessableEntity},
	}, access.Anyone(), access.Login, func(ctx context.Context, in *struct{ Body UserCreate }) (*UserOutput, error) {
		u, err := s.Auth.Register(ctx, in.Body.Email, in.Body.Username, in.Body.Password)
		if err != nil {
			return nil, err
		}
		return userOutput(u), nil
	}, noCachedData)

	register(s, api, huma.Operation{
		OperationID: "login", Method: http.MethodPost, Path: "/auth/login",
		Summary: "Log in (OAuth2 password flow)",
		Description: "Form-encoded `username` and `password`, as OAuth2 clients and Swagger UI's Authorize button send them. " +
			"Returns an access token, sent as `Authorization: Bearer …`, and a refresh token that starts a session.",
		Tags:   tags,
		Errors: []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity, http.StatusTooManyRequests},
	}, access.Anyone(), access.Login, s.login, noCachedData)
	// huma documents a raw body as opaque bytes; describe the form fields
	// instead, so that "Try it out" offers them.
	api.OpenAPI().Paths["/auth/login"].Post.RequestBody = &huma.RequestBody{
		Required: true,
		Content: map[string]*huma.MediaType{"application/x-www-form-urlencoded": {
			Schema: api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[loginForm](), true, "LoginForm"),
		}},
	}

	// A refresh token that does not work is an invalid refresh token, not
	// bad credentials.
	invalidRefresh := errorRule{target: auth.ErrInvalidToken, status: http.StatusUnauthorized, detail: text(msgInvalidRefresh), challenge: true}
	register(s, api, huma.Operation{
		OperationID: "refresh", Method: http.MethodPost, Path: "/auth/refresh",
		Summary: "Exchange a refresh token for a new pair",
		Description: "The presented refresh token stops working. Presented again within REFRESH_REUSE_GRACE_SECONDS " +
			"(a retry), it gets the same new pair; later, it revokes the whole session.",
		Tags:   tags,
		Errors: []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusUnprocessableEntity},
	}, access.Anyone(), access.General, func(ctx context.Context, in *RefreshInput) (*TokenOutput, error) {
		token := in.token()
		if token == "" {
			return nil, huma.Error422UnprocessableEntity("refresh_token is required (JSON body {\"refresh_token\": …})")
		}
		pair, err := s.Auth.Refresh(ctx, token)
		if err != nil {
			return nil, err
		}
		return s.tokenOutput(pair), nil
	}, invalidRefresh, noCachedData)

	register(s, api, huma.Operation{
		OperationID: "logout", Method: http.MethodPost, Path: "/auth/logout",
		Summary: "Log out: revoke the session of a refresh token", Tags: tags,
		Description:   "The session's refresh tokens stop working. Access tokens already issued stay valid until they expire.",
		DefaultStatus: http.StatusNoContent, Errors: []int{http.StatusUnauthorized, http.StatusUnprocessableEntity},
	}, access.Anyone(), access.General, func(ctx context.Context, in *RefreshInput) (*struct{}, error) {
		token := in.token()
		if token == "" {
			return nil, huma.Error422UnprocessableEntity("refresh_token is required (JSON body {\"refresh_token\": …})")
		}
		if err := s.Auth.Logout(ctx, token); err != nil {
			return nil, err
		}
		return nil, nil
	}, invalidRefresh, noCachedData)
}

func (s *server) login(ctx context.Context, in *LoginInput) (*TokenOutput, error) {
	if mt, _, _ := mime.ParseMediaType(in.ContentType); mt != "application/x-www-form-urlencoded" {
		return nil, huma.NewError(http.StatusUnsupportedMediaType,
			"Content-Type must be application/x-www-form-urlencoded (OAuth2 password form), got "+quoteOrNone(in.ContentType))
	}
	form, problems, err := input.ParseForm(in.RawBody)
	if err != nil {
		return nil, huma.Error422UnprocessableEntity("malformed form body: " + err.Error())
	}
	if len(problems) > 0 {
		return nil, huma.Error422UnprocessableEntity("validation failed", problemDetails(problems...)...)
	}
	var missing []error
	for _, field := range []string{"username", "password"} {
		if form[field] == "" {
			missing = append(missing, &huma.ErrorDetail{Location: "body." + field, Message: "field required"})
		}
	}
	if gt := form["grant_type"]; gt != "" && gt != "password" {
		missing = append(missing, &huma.ErrorDetail{Location: "body.grant_type", Message: `must be "password"`, Value: gt})
	}
	if len(missing) > 0 {
		return nil, huma.Error422UnprocessableEntity("validation failed", missing...)
	}
	attempt, err := throttled(s.Limiter.PasswordAttempt(ctx, form["username"]))
	if err != nil {
		return nil, err
	}
	u, pair, err := s.Auth.Login(ctx, form["username"], form["password"])
	if !errors.Is(err, auth.ErrInvalidCredentials) {
		attempt.Succeeded()
	}
	if err != nil {
		return nil, err
	}
	setUserID(ctx, u.ID)
	return s.tokenOutput(pair), nil
}

func (s *server) tokenOutput(pair auth.TokenPair) *TokenOutput {
	return &TokenOutput{CacheControl: noStore, Pragma: "no-cache", Body: Token{
		AccessToken:  pair.AccessToken,
		RefreshToken: pair.RefreshToken,
		TokenType:    "bearer",
		ExpiresIn:    int64(s.Auth.AccessTTL() / time.Second),
	}}
}

func quoteOrNone(s string) string {
	if s == "" {
		return "none"
	}
	return `"` + s + `"`
}
