package org

import (
	"errors"
	"strconv"
)

func asError[T error](err error, target *T) bool { return errors.As(err, target) }

func fmtFloat(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
