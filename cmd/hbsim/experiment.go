package main

import (
	"context"
	"errors"
	"io"

	"hbsim/model"
)

// replicationConfig is filled in once experiments land.
func replicationConfig(path string, point, rep int) (model.Config, string, error) {
	return model.Config{}, "", errors.New("experiment files are not supported yet")
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return errors.New("run: not implemented yet")
}

func cmdValidate(args []string, stdout io.Writer) error {
	return errors.New("validate: not implemented yet")
}

func isInputError(err error) bool { return false }
