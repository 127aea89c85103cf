#!/usr/bin/env python3
"""Offline checks of deploy/ that need no Docker engine or cluster (`make test`).

- compose.yaml: validated against the Compose Specification JSON schema
  (schema/compose-spec.json, vendored from the npm package dclint 3.1.0, which
  ships the compose-spec project's schema; Apache-2.0), then cross-checked:
  depends_on targets, named volumes, bind-mounted files and the build context
  exist.
- k8s/*.yaml: every document has apiVersion, kind and a name; Deployments
  probe /health (liveness) and /ready (readiness); Services and HPAs point at
  Deployments that exist; ConfigMaps they use exist; kustomization lists all.
- grafana/: the dashboard's panels use the provisioned datasource.
- With --dashboard-rules FILE: writes the dashboard's PromQL expressions as
  recording rules, so that `promtool check rules FILE` parses them.

Needs PyYAML and jsonschema (scripts/test.sh installs them in .dev/venv).
"""
import argparse
import json
import pathlib
import sys

import jsonschema
import yaml

DEPLOY = pathlib.Path(__file__).resolve().parent
errors = []


def fail(message):
    errors.append(message)


def check_compose():
    path = DEPLOY / "compose.yaml"
    compose = yaml.safe_load(path.read_text())
    schema = json.loads((DEPLOY / "schema" / "compose-spec.json").read_text())
    # The schema says draft-07 (in a spelling jsonschema does not map itself).
    validator = jsonschema.Draft7Validator(schema)
    for error in sorted(validator.iter_errors(compose), key=lambda e: list(e.path)):
        fail(f"compose.yaml: {'/'.join(map(str, error.path)) or '(top)'}: {error.message}")
    services = compose.get("services", {})
    volumes = compose.get("volumes", {}) or {}
    for name, service in services.items():
        depends = service.get("depends_on", {})
        for target in depends if isinstance(depends, (list, dict)) else []:
            if target not in services:
                fail(f"compose.yaml: {name} depends on unknown service {target}")
        for volume in service.get("volumes", []):
            source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source", "")
            if source.startswith((".", "/")):
                if not (DEPLOY / source).exists():
                    fail(f"compose.yaml: {name} mounts {source}, which does not exist")
            elif source and source not in volumes:
                fail(f"compose.yaml: {name} uses undeclared volume {source}")
        build = service.get("build")
        if build:
            context = DEPLOY / (build if isinstance(build, str) else build.get("context", "."))
            dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
            if not (context / dockerfile).is_file():
                fail(f"compose.yaml: {name} builds from {context / dockerfile}, which does not exist")
    print(f"compose.yaml: checked ({len(services)} services)")


def check_k8s():
    documents = []
    folder = DEPLOY / "k8s"
    for path in sorted(folder.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                documents.append((path.name, doc))
    by_kind = {}
    for file, doc in documents:
        for key in ("apiVersion", "kind"):
            if key not in doc:
                fail(f"k8s/{file}: a document has no {key}")
        if doc.get("kind") != "Kustomization" and not doc.get("metadata", {}).get("name"):
            fail(f"k8s/{file}: a {doc.get('kind')} has no metadata.name")
        by_kind.setdefault(doc.get("kind"), {})[doc.get("metadata", {}).get("name")] = (file, doc)
    deployments = by_kind.get("Deployment", {})
    configmaps = by_kind.get("ConfigMap", {})
    for name, (file, doc) in deployments.items():
        pod = doc["spec"]["template"]
        selector = doc["spec"]["selector"]["matchLabels"]
        if not selector.items() <= pod["metadata"]["labels"].items():
            fail(f"k8s/{file}: {name}'s selector does not match its pod labels")
        for container in pod["spec"]["containers"]:
            probes = {
                "livenessProbe": "/health",
                "readinessProbe": "/ready",
            }
            for probe, want in probes.items():
                got = container.get(probe, {}).get("httpGet", {}).get("path")
                if got != want:
                    fail(f"k8s/{file}: {name}/{container['name']} {probe} is {got}, not {want}")
            for source in container.get("envFrom", []):
                ref = source.get("configMapRef", {}).get("name")
                if ref and ref not in configmaps:
                    fail(f"k8s/{file}: {name} uses unknown ConfigMap {ref}")
            mounted = {m["name"] for m in container.get("volumeMounts", [])}
            declared = {v["name"] for v in pod["spec"].get("volumes", [])}
            if not mounted <= declared:
                fail(f"k8s/{file}: {name}/{container['name']} mounts undeclared volumes {sorted(mounted - declared)}")
    # Every workload (the init Job too) reads Kafka's credentials the same
    # way: ConfigMap volumes name a ConfigMap of this folder, and no
    # password is written into a manifest.
    for file, doc in documents:
        pod = doc.get("spec", {}).get("template", {}).get("spec", {})
        for volume in pod.get("volumes", []):
            ref = volume.get("configMap", {}).get("name")
            if ref and ref not in configmaps:
                fail(f"k8s/{file}: volume {volume['name']} uses unknown ConfigMap {ref}")
        for container in pod.get("containers", []):
            for var in container.get("env", []):
                if "PASSWORD" in var["name"] and "FILE" not in var["name"] and "value" in var:
                    fail(f"k8s/{file}: {var['name']} is written in the manifest, not read from a Secret")
    for _, doc in configmaps.values():
        for key, value in doc.get("data", {}).items():
            if "sasl.password" in str(value) or ("PASSWORD" in key and "FILE" not in key):
                fail(f"k8s: ConfigMap {doc['metadata']['name']} holds a password ({key})")
    # A database URL carries a password: only ever from a Secret.
    workloads = list(deployments.items()) + list(by_kind.get("Job", {}).items())
    for name, (file, doc) in workloads:
        for container in doc["spec"]["template"]["spec"]["containers"]:
            for var in container.get("env", []):
                if var["name"].endswith("__URL") and "DATABASE" in var["name"]:
                    if "secretKeyRef" not in var.get("valueFrom", {}):
                        fail(f"k8s/{file}: {name} sets {var['name']} other than from a Secret")
    for name, (file, doc) in configmaps.items():
        for key in doc.get("data", {}):
            if key.startswith("WIRESTREAM_DATABASE__URL"):
                fail(f"k8s/{file}: ConfigMap {name} holds {key}, which belongs in a Secret")
    for name, (file, doc) in by_kind.get("Service", {}).items():
        selector = doc["spec"]["selector"]
        if not any(selector.items() <= d["spec"]["template"]["metadata"]["labels"].items() for _, d in deployments.values()):
            fail(f"k8s/{file}: Service {name} selects no Deployment")
    for name, (file, doc) in by_kind.get("HorizontalPodAutoscaler", {}).items():
        target = doc["spec"]["scaleTargetRef"]
        if target.get("kind") != "Deployment" or target.get("name") not in deployments:
            fail(f"k8s/{file}: HPA {name} targets unknown {target.get('kind')} {target.get('name')}")
        if doc["spec"]["minReplicas"] > doc["spec"]["maxReplicas"]:
            fail(f"k8s/{file}: HPA {name} has minReplicas > maxReplicas")
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
    listed = set(kustomization.get("resources", []))
    for path in folder.glob("*.yaml"):
        if path.name != "kustomization.yaml" and path.name not in listed:
            fail(f"k8s/kustomization.yaml does not list {path.name}")
    print(f"k8s: checked ({len(documents)} documents, {len(deployments)} Deployments)")


def dashboard_panels():
    for path in sorted((DEPLOY / "grafana" / "dashboards").glob("*.json")):
        dashboard = json.loads(path.read_text())
        stack = list(dashboard.get("panels", []))
        while stack:
            panel = stack.pop(0)
            stack.extend(panel.get("panels", []))
            yield path.name, panel


def check_grafana(rules_out):
    datasources = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text())
    uids = {d["uid"] for d in datasources["datasources"]}
    rules = []
    ids = set()
    for file, panel in dashboard_panels():
        if panel["id"] in ids:
            fail(f"{file}: panel id {panel['id']} is used twice")
        ids.add(panel["id"])
        for target in panel.get("targets", []) + [panel]:
            uid = (target.get("datasource") or {}).get("uid")
            if uid and uid not in uids:
                fail(f"{file}: panel {panel['title']!r} uses datasource {uid}, which is not provisioned")
        for target in panel.get("targets", []):
            # Grafana's variables, replaced by what Grafana would put there.
            expr = target["expr"].replace("$__rate_interval", "1m").replace("$__interval", "1m")
            rules.append({"record": f"dashboard:panel{panel['id']}:{target['refId']}", "expr": expr})
    if rules_out:
        pathlib.Path(rules_out).write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    print(f"grafana: checked ({len(ids)} panels, {len(rules)} queries)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dashboard-rules", help="write the dashboard's queries as a rules file here")
    args = parser.parse_args()
    check_compose()
    check_k8s()
    check_grafana(args.dashboard_rules)
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
