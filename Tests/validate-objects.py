#!/usr/bin/env python3
"""Validates Kubernetes objects written by authgate against the CRDs they belong to.

Usage: validate-objects.py CRD_DIR FILE...

Every Gateway API object (gateway.networking.k8s.io, standard channel v1.6.1) and
every Traefik object (traefik.io, v3.7) in the YAML streams FILE... is checked against
its CRD version's openAPIV3Schema with `jsonschema`, and against the CEL rules of that
schema (x-kubernetes-validations) with `cel-python`: each rule is evaluated with `self`
bound to the value it is written on, as the API server does on create. Rules that only
apply on update (they use oldSelf) are skipped; a rule cel-python cannot evaluate is
listed by name, never counted as passed. Core objects (Namespace, Secret, Service,
Deployment, EndpointSlice) are checked with `kubernetes-validate --strict` against
Kubernetes 1.34.

Prints one line per problem as FILE: KIND/NAMESPACE/NAME: PATH: MESSAGE and exits 1 if
there is any; exits 2 when the CRDs are missing.
"""
import glob
import os
import sys

import celpy
import jsonschema
import kubernetes_validate
import yaml

KUBERNETES_VERSION = "1.34.0"
CORE_GROUPS = ("", "apps", "discovery.k8s.io")


class CEL:
    """Evaluates x-kubernetes-validations rules with cel-python."""

    def __init__(self):
        self.environment = celpy.Environment()
        self.programs = {}
        self.evaluated = 0
        self.unevaluated = {}   # rule -> why

    def program(self, rule):
        if rule not in self.programs:
            try:
                self.programs[rule] = self.environment.program(self.environment.compile(rule))
            except Exception as error:  # noqa: BLE001 - any failure means "cannot evaluate"
                self.programs[rule] = error
        return self.programs[rule]

    def check(self, schema, value, path, problems):
        for validation in schema.get("x-kubernetes-validations") or []:
            rule = validation["rule"]
            if "oldSelf" in rule:
                continue
            program = self.program(rule)
            if isinstance(program, Exception):
                self.unevaluated[rule] = f"does not compile: {program}"
                continue
            try:
                result = program.evaluate({"self": celpy.json_to_cel(value)})
            except Exception as error:  # noqa: BLE001
                self.unevaluated[rule] = str(error).splitlines()[0][:120]
                continue
            if isinstance(result, celpy.CELEvalError):
                self.unevaluated[rule] = str(result)[:120]
                continue
            self.evaluated += 1
            if result is not True and result != celpy.celtypes.BoolType(True):
                problems.append((path, validation.get("message") or f"CEL rule failed: {rule}"))
        if isinstance(value, dict):
            for key, sub in (schema.get("properties") or {}).items():
                if key in value:
                    self.check(sub, value[key], f"{path}/{key}", problems)
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict):
                for key, item in value.items():
                    self.check(extra, item, f"{path}/{key}", problems)
        if isinstance(value, list) and isinstance(schema.get("items"), dict):
            for index, item in enumerate(value):
                self.check(schema["items"], item, f"{path}/{index}", problems)


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
    schemas, _ = load_crds(sys.argv[1])
    cel = CEL()
    problems = 0
    checked = 0
    core = 0
    for path in sys.argv[2:]:
        with open(path) as handle:
            documents = [d for d in yaml.safe_load_all(handle) if d is not None]
        for document in documents:
            api_version = document.get("apiVersion", "")
            group, _, version = api_version.rpartition("/")
            key = (group, version, document.get("kind"))
            metadata = document.get("metadata", {})
            name = f"{document.get('kind')}/{metadata.get('namespace', '-')}/{metadata.get('name')}"
            if group in CORE_GROUPS:
                core += 1
                try:
                    kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
                except kubernetes_validate.ValidationError as error:
                    location = "/".join(str(part) for part in error.absolute_path) or "(root)"
                    print(f"{path}: {name}: {location}: {error.message}")
                    problems += 1
                except Exception as error:  # noqa: BLE001 - a schema it cannot find is a problem too
                    print(f"{path}: {name}: kubernetes-validate: {error}")
                    problems += 1
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
            failures = []
            cel.check(schema, document, "", failures)
            for location, message in failures:
                print(f"{path}: {name}: {location or '(root)'}: {message}")
                problems += 1
    print(f"validate-objects: {checked} Gateway API and Traefik objects checked against their CRD schemas and "
          f"{cel.evaluated} CEL rule evaluations; {core} core objects checked with kubernetes-validate --strict "
          f"(Kubernetes {KUBERNETES_VERSION}); {problems} problems", file=sys.stderr)
    for rule, why in sorted(cel.unevaluated.items()):
        print(f"validate-objects: CEL rule not evaluated ({why}): {rule}", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
