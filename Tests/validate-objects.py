#!/usr/bin/env python3
"""Validates Kubernetes objects written by authgate against the CRDs they belong to.

Usage: validate-objects.py CRD_DIR FILE...

Every Gateway API object (gateway.networking.k8s.io, standard channel v1.6.1) and
every Traefik object (traefik.io, v3.7) in the YAML streams FILE... is checked against
the openAPIV3Schema of its CRD version, with `jsonschema`. Objects of other groups are
counted but not checked here (core objects are checked with kubernetes-validate in
issue 4). CEL rules (x-kubernetes-validations) are not evaluated here; they are listed
at the end so nobody mistakes this for a full check.

Prints one line per problem as FILE: KIND/NAMESPACE/NAME: PATH: MESSAGE and exits 1 if
there is any; exits 2 when the CRDs are missing.
"""
import glob
import os
import sys

import jsonschema
import yaml


def load_crds(crd_dir):
    paths = sorted(glob.glob(os.path.join(crd_dir, "gateway-api-v1.6.1", "standard", "*.yaml")))
    paths += sorted(glob.glob(os.path.join(crd_dir, "traefik-v3.7", "*.yml")))
    if not paths:
        print(f"validate-objects: no CRDs under {crd_dir}", file=sys.stderr)
        sys.exit(2)
    schemas = {}
    cel_rules = 0
    for path in paths:
        with open(path) as handle:
            for document in yaml.safe_load_all(handle):
                if not document or document.get("kind") != "CustomResourceDefinition":
                    continue
                spec = document["spec"]
                for version in spec["versions"]:
                    schema = version["schema"]["openAPIV3Schema"]
                    key = (spec["group"], version["name"], spec["names"]["kind"])
                    schemas[key] = schema
                    cel_rules += str(schema).count("'rule':")
    return schemas, cel_rules


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(64)
    schemas, cel_rules = load_crds(sys.argv[1])
    problems = 0
    checked = 0
    skipped = 0
    for path in sys.argv[2:]:
        with open(path) as handle:
            documents = [d for d in yaml.safe_load_all(handle) if d is not None]
        for document in documents:
            api_version = document.get("apiVersion", "")
            group, _, version = api_version.rpartition("/")
            key = (group, version, document.get("kind"))
            metadata = document.get("metadata", {})
            name = f"{document.get('kind')}/{metadata.get('namespace', '-')}/{metadata.get('name')}"
            if group not in ("gateway.networking.k8s.io", "traefik.io"):
                skipped += 1
                continue
            schema = schemas.get(key)
            if schema is None:
                print(f"{path}: {name}: no CRD defines {api_version} {document.get('kind')}")
                problems += 1
                continue
            checked += 1
            validator = jsonschema.Draft7Validator(schema)
            for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
                location = "/".join(str(part) for part in error.absolute_path) or "(root)"
                print(f"{path}: {name}: {location}: {error.message}")
                problems += 1
    print(f"validate-objects: {checked} objects checked against their CRD schemas, {skipped} core objects left for kubernetes-validate, "
          f"{problems} problems; {cel_rules} CEL rules in the CRDs are not evaluated by this script", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
