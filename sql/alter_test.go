package sql

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestAlterError(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code string
	}{
		{errorf("42P07", "x"), "42P07"},
		{fixtureError{"42P16", "custom"}, "42P16"},
		{fmt.Errorf("engine: alter: %w", fixtureError{"42703", "no column"}), "42703"},
		{errors.New(`schema: column "c" does not exist`), "42703"},
		{errors.New(`schema: table "t" does not exist`), "42P01"},
		{errors.New(`schema: table alias "a" does not exist`), "42704"},
		{errors.New(`schema: raw field "f" not found`), "42704"},
		{errors.New(`schema: column "c" already exists`), "42701"},
		{errors.New(`schema: table "u" already exists`), "42P07"},
		{errors.New(`schema: invalid conversion`), "22023"},
		{errors.New(`engine: closed`), "XX000"},
		{context.Canceled, "57014"},
	} {
		err := alterError(tc.err)
		if errCode(err) != tc.code || err.Error() != asError(tc.err).Error() && tc.code != "57014" {
			t.Errorf("%v: %v (%s), want %s", tc.err, err, errCode(err), tc.code)
		}
	}
	if alterError(nil) != nil {
		t.Fatal("nil error")
	}
}
