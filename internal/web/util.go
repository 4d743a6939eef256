package web

import (
	"errors"
	"net/url"
	"strconv"
)

func asErr[T error](err error, target *T) bool { return errors.As(err, target) }
func itoa(i int) string                        { return strconv.Itoa(i) }
func urlEscape(s string) string                { return url.QueryEscape(s) }
