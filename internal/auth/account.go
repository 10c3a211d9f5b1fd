package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"myapi/internal/sqldb"
	"myapi/internal/users"
)

// Errors of UpdateUser's re-authentication.
var (
	// ErrReauthRequired refuses a change of email by a session whose
	// password login is older than Policy.FreshLogin and that sent no
	// current password.
	ErrReauthRequired = errors.New("changing the email needs the current password or a recent login")
	// ErrWrongPassword is a current password that does not match.
	ErrWrongPassword = errors.New("incorrect password")
)

// Proof is what a request shows, besides a valid access token, that the
// person at the keyboard holds the account: a recent password login, or
// the password itself. A stolen access token alone shows neither once the
// login behind it is a few minutes old.
type Proof struct {
	// LoginTime is when the password login of the token's session
	// happened (Claims.LoginTime).
	LoginTime time.Time
	// Password is the current password, if the request sent one.
	Password *string
}

// UpdateUser applies upd to the user id on behalf of actor (the user
// themselves, or a superuser). A change of email, the way into an account
// through password recovery, needs proof that actor is at the keyboard
// (ErrReauthRequired, ErrWrongPassword); the store then uses up the
// user's reset tokens and the OnEmailChange hook runs, all in the
// transaction of the change. A user left inactive loses every session.
func (s *Service) UpdateUser(ctx context.Context, actor *users.User, proof Proof, id int64, upd users.Update) (*users.User, error) {
	if email, ok := upd.Email.Get(); ok {
		target := actor
		if id != actor.ID {
			var err error
			if target, err = s.users.UserByID(ctx, id); err != nil {
				return nil, fmt.Errorf("update user %d: %w", id, err)
			}
		}
		if users.Key(email) != users.Key(target.Email) {
			if err := s.confirm(ctx, actor, proof); err != nil {
				return nil, err
			}
		}
	}
	var hooks []users.UpdateHook
	if s.onEmailChange != nil {
		hooks = append(hooks, func(ctx context.Context, tx sqldb.Tx, before, after *users.User) error {
			if !users.EmailChanged(before, after) {
				return nil
			}
			return s.onEmailChange(ctx, tx, before, after)
		})
	}
	u, err := s.users.UpdateUser(ctx, id, upd, hooks...)
	if err != nil {
		return nil, fmt.Errorf("update user %d: %w", id, err)
	}
	if !u.IsActive {
		// A deactivated user's refresh tokens die with the account,
		// whichever interface (API, console) deactivated it.
		if err := s.RevokeAllSessions(ctx, u.ID); err != nil {
			return nil, fmt.Errorf("update user %d: %w", id, err)
		}
	}
	return u, nil
}

// confirm checks proof for actor: the password when one was sent (and it
// must match), else a login within Policy.FreshLogin.
func (s *Service) confirm(ctx context.Context, actor *users.User, proof Proof) error {
	if proof.Password != nil {
		ok, err := s.hasher.Verify(ctx, actor.PasswordHash, *proof.Password)
		if err != nil {
			return fmt.Errorf("confirm password: %w", err)
		}
		if !ok {
			return ErrWrongPassword
		}
		return nil
	}
	if age := s.now().Sub(proof.LoginTime); proof.LoginTime.IsZero() || age > s.policy.FreshLogin || age < -time.Minute {
		return ErrReauthRequired
	}
	return nil
}

// FreshLogin is how long after a password login an email may change without
// the current password.
func (s *Service) FreshLogin() time.Duration { return s.policy.FreshLogin }

// OnEmailChange sets a hook that runs in the transaction of every change
// of a user's email through UpdateUser, given the user before and after:
// the change is stored only if the hook succeeds. The job queue enqueues
// the notice to the old address with it. Set it before serving.
func (s *Service) OnEmailChange(hook func(ctx context.Context, tx sqldb.Tx, before, after *users.User) error) {
	s.onEmailChange = hook
}
