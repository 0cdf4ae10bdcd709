package main

import (
	"fmt"

	"github.com/psp2psa/psp2psa/apiserver"
	"github.com/psp2psa/psp2psa/pss"
	"k8s.io/pod-security-admission/api"
)

// versions resolves what a plan is for: the target apiserver (the
// --server-version flag; else the version the input reports, detected
// from a live cluster or recorded by a snapshot; else the newest this
// build knows) and the PSS version (--pss-version, else the target's; a
// newer one than the target is refused, since that server would pin
// nothing with it).
func (g *Globals) versions(detected, from string) (apiserver.Target, api.Version, error) {
	t, err := g.target(detected, from)
	if err != nil {
		return apiserver.Target{}, api.Version{}, err
	}
	var asked *api.Version
	if g.PSSVersion != "" {
		v, err := pss.ParseSupportedVersion(g.PSSVersion)
		if err != nil {
			return apiserver.Target{}, api.Version{}, usageError(err)
		}
		asked = &v
	}
	v, err := t.PSSVersion(asked)
	if err != nil {
		return apiserver.Target{}, api.Version{}, usageError(fmt.Errorf("--pss-version: %w", err))
	}
	return t, v, nil
}

func (g *Globals) target(detected, from string) (apiserver.Target, error) {
	if g.ServerVersion != "" {
		v, err := apiserver.ParseVersion(g.ServerVersion)
		if err != nil {
			return apiserver.Target{}, usageError(fmt.Errorf("--server-version: %w", err))
		}
		return apiserver.Target{Version: v, From: apiserver.FromFlag}, nil
	}
	if detected == "" {
		return apiserver.Default(), nil
	}
	v, err := apiserver.ParseVersion(detected)
	if err != nil {
		return apiserver.Target{}, usageError(fmt.Errorf("the %s's version: %w; name the target with --server-version", from, err))
	}
	return apiserver.Target{Version: v, From: from}, nil
}
