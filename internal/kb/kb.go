// Package kb is the domain of partnergraph: the kinds of entity, their
// attributes and enumerations, the relation vocabulary with its rules,
// validation and the domain errors. It does no I/O.
package kb

import (
	"errors"
	"fmt"
)

// Domain errors. Store and API layers wrap them; callers test with errors.Is.
var (
	// ErrNotFound reports that an entity, link or other record does not exist
	// (or is not visible to the caller).
	ErrNotFound = errors.New("not found")
	// ErrConflict reports a uniqueness or version conflict.
	ErrConflict = errors.New("conflict")
	// ErrUnauthenticated reports a missing or invalid credential.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrForbidden reports a caller without the role an operation needs.
	ErrForbidden = errors.New("forbidden")
	// ErrLimitExceeded reports a request beyond a configured limit.
	ErrLimitExceeded = errors.New("limit exceeded")
	// ErrUnavailable reports that the database cannot be reached right now.
	ErrUnavailable = errors.New("unavailable")
)

// ValidationError reports input that breaks a domain rule. Field names the
// offending input (a GraphQL argument path or a record field), Message says
// what is wrong in words a client can show.
type ValidationError struct {
	Field   string
	Message string
	// Code, when set, is the error's code in the API instead of
	// BAD_USER_INPUT (INVALID_SLUG).
	Code string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Invalid returns a *ValidationError for field with a formatted message.
func Invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// IsValidation reports whether err is or wraps a *ValidationError.
func IsValidation(err error) bool {
	var v *ValidationError
	return errors.As(err, &v)
}
