// Offline validation of deploy/kubernetes (run it through ../validate.sh, which installs what it needs first).
//
//   node validate.mjs [--root DIR] [--crd FILE]... [--self-test]
//
// Each Kubernetes object of the manifests (kustomization.yaml's resources, the *.example.yaml and *-job.yaml files
// beside them, and what configmaps.sh prints) is checked four ways:
//   1. YAML as kubectl reads it: YAML 1.1 (`yes` is a boolean, 0440 octal), no duplicate keys.
//   2. Its JSON schema: Kubernetes' own (kubernetes-models, from Kubernetes' OpenAPI specs up to 1.36) and the
//      operators' (@kubernetes-models/keda, @kubernetes-models/cloudnative-pg, from their Go API types), as compiled
//      ajv validators: types, required fields, formats (quantities), enums where the schema has them.
//   3. Unknown fields: those schemas, like Kubernetes' OpenAPI, allow properties they do not name, which would let a
//      typo (readinesProbe) through. The same packages' TypeScript declarations name every field, so each object is
//      type-checked as an object literal of its type, and TypeScript's excess-property check names any field the
//      type lacks.
//   4. The deployment's own consistency: names, namespace, references between objects (ConfigMaps, Secrets and their
//      keys, the ScaledObject's target), selectors, the Job's pod spec against the Deployment's, and the gateway's
//      configuration against deploy/config (every recipient has an https BaseUrl and a signing secret, the mounted
//      agreements and controllers are the files as they are, the files the settings name are mounted).
// A kind with no schema package (RabbitmqCluster: none is published on the npm registry) is checked in part: its
// metadata and the Kubernetes types it embeds. Give its CRD with --crd FILE and it is checked whole, strictly.
// With kubectl on the PATH, `kubectl kustomize` renders kustomization.yaml (offline) and the result must be the same
// objects. Exit 0 and "N manifest(s) valid" last, or 1 naming each problem. --self-test feeds it the broken manifests
// of self-test/ and fails unless each is refused for the reason its file names.

import fs from "node:fs";
import path from "node:path";
import { execFileSync, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import ts from "typescript";
import Ajv from "ajv";
import addFormats from "ajv-formats";

const here = path.dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------------------------------------------------- options
const argv = process.argv.slice(2);
const options = { root: path.resolve(here, ".."), crds: [], selfTest: false };
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === "--root") options.root = path.resolve(argv[++i] ?? "");
  else if (a === "--crd") options.crds.push(path.resolve(argv[++i] ?? ""));
  else if (a === "--self-test") options.selfTest = true;
  else if (a === "-h" || a === "--help") {
    console.log("usage: validate.sh [--crd FILE]... [--self-test]");
    process.exit(0);
  } else {
    console.error(`validate: unknown argument ${a} (usage: validate.sh [--crd FILE]... [--self-test])`);
    process.exit(2);
  }
}

// ------------------------------------------------------------------------------------------------------------ YAML
/** Every object in a YAML stream, as kubectl reads it. Comment-only documents are skipped, as kubectl skips them. */
function parseStream(text, source) {
  const out = [];
  const docs = YAML.parseAllDocuments(text, { version: "1.1", uniqueKeys: true, prettyErrors: true });
  const list = Array.isArray(docs) ? docs : [];
  if (!Array.isArray(docs) && docs.errors?.length) {
    out.push({ source, index: 0, problems: docs.errors.map((e) => `YAML: ${e.message.split("\n")[0]}`) });
  }
  list.forEach((doc, index) => {
    const problems = [...doc.errors, ...doc.warnings].map((e) => `YAML: ${e.message.split("\n")[0]}`);
    if (problems.length) {
      out.push({ source, index, problems });
      return;
    }
    const obj = doc.toJS({ maxAliasCount: 50 });
    if (obj === null || obj === undefined) return;
    out.push({ source, index, obj, problems: [] });
  });
  return out;
}

const label = (m) =>
  m.obj && typeof m.obj === "object"
    ? `${path.basename(m.source)}: ${m.obj.kind ?? "?"}/${m.obj.metadata?.name ?? m.obj.metadata?.generateName ?? "?"}`
    : `${path.basename(m.source)}: document ${m.index + 1}`;

// ------------------------------------------------------------------------------------------- schemas: the packages
const schemaPackages = ["kubernetes-models", "@kubernetes-models/keda", "@kubernetes-models/cloudnative-pg"];
const packageVersion = (name) =>
  JSON.parse(fs.readFileSync(path.join(here, "node_modules", name, "package.json"), "utf8")).version;

const modelCache = new Map();
/** The model class of apiVersion/kind from the schema packages, with the module and interface of its TypeScript type. */
async function resolveModel(apiVersion, kind, embedded = false) {
  const key = `${apiVersion}|${kind}|${embedded}`;
  if (modelCache.has(key)) return modelCache.get(key);
  let found = null;
  for (const pkg of schemaPackages) {
    const spec = `${pkg}/${apiVersion}`;
    let mod;
    try {
      mod = await import(spec);
    } catch {
      continue;
    }
    const cls = mod[kind];
    // A resource's class names its apiVersion and kind; an embedded type's (ResourceRequirements) names neither.
    if (typeof cls === "function" && (embedded ? cls.kind === undefined : cls.apiVersion === apiVersion && cls.kind === kind)) {
      found = { cls, pkg, typeModule: `${spec}/${kind}`, typeName: `I${kind}` };
      break;
    }
  }
  modelCache.set(key, found);
  return found;
}

/** ajv's errors for data against a model class, as "path message" lines; [] when valid. */
function modelErrors(cls, data, prefix = "") {
  try {
    new cls(data).validate();
    return [];
  } catch (e) {
    if (Array.isArray(e.errors)) {
      const seen = new Set();
      return e.errors
        .map((err) => `${prefix}${err.instancePath || "/"}: ${err.message}${err.params?.allowedValues ? ` (${err.params.allowedValues.join(", ")})` : ""}`)
        .filter((line) => (seen.has(line) ? false : seen.add(line)));
    }
    return [`${prefix}: ${e.message}`];
  }
}

// ----------------------------------------------------------------------------------------------- schemas: CRD files
const crdValidators = new Map(); // "apiVersion|kind" -> { validate, source }
function loadCrds(files) {
  const ajv = new Ajv({ allErrors: true, strict: false, logger: false, validateFormats: true });
  addFormats(ajv);
  const intRange = (min, max) => ({ type: "number", validate: (n) => Number.isInteger(n) && n >= min && n <= max });
  ajv.addFormat("int32", intRange(-2147483648, 2147483647));
  ajv.addFormat("int64", { type: "number", validate: (n) => Number.isInteger(n) });
  ajv.addFormat("float", { type: "number", validate: () => true });
  ajv.addFormat("double", { type: "number", validate: () => true });
  ajv.addFormat("byte", /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/);
  for (const file of files) {
    if (!fs.existsSync(file)) throw new Error(`--crd ${file}: no such file`);
    for (const m of parseStream(fs.readFileSync(file, "utf8"), file)) {
      if (m.problems.length) throw new Error(`--crd ${file}: ${m.problems.join("; ")}`);
      const crd = m.obj;
      if (crd?.kind !== "CustomResourceDefinition") continue;
      for (const version of crd.spec?.versions ?? []) {
        const schema = version.schema?.openAPIV3Schema;
        if (!schema) continue;
        const key = `${crd.spec.group}/${version.name}|${crd.spec.names.kind}`;
        crdValidators.set(key, { validate: ajv.compile(strictSchema(schema, true)), source: path.basename(file) });
      }
    }
  }
}

/**
 * A CRD's structural schema as JSON Schema for ajv, strict as the API server's field validation is: an object that
 * names its properties takes no others, unless it says x-kubernetes-preserve-unknown-fields.
 */
function strictSchema(node, root = false) {
  if (!node || typeof node !== "object") return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === "description" || k === "default" || k === "example" || k.startsWith("x-kubernetes-")) continue;
    out[k] = v;
  }
  if (node["x-kubernetes-int-or-string"] && !out.anyOf && !out.oneOf) {
    delete out.type;
    out.anyOf = [{ type: "integer" }, { type: "string" }];
  }
  if (out.properties) {
    out.properties = Object.fromEntries(Object.entries(out.properties).map(([k, v]) => [k, strictSchema(v)]));
    if (node["x-kubernetes-embedded-resource"]) {
      for (const k of ["apiVersion", "kind"]) out.properties[k] ??= { type: "string" };
      out.properties.metadata ??= { type: "object" };
    }
    if (root) out.properties.metadata = { type: "object" }; // checked against ObjectMeta on its own
    if (!node["x-kubernetes-preserve-unknown-fields"] && out.additionalProperties === undefined) out.additionalProperties = false;
  }
  if (out.items) out.items = strictSchema(out.items);
  if (out.additionalProperties && typeof out.additionalProperties === "object") out.additionalProperties = strictSchema(out.additionalProperties);
  for (const k of ["anyOf", "oneOf", "allOf"]) if (Array.isArray(out[k])) out[k] = out[k].map((s) => strictSchema(s));
  if (out.not) out.not = strictSchema(out.not);
  return out;
}

// ------------------------------------------------------------------ kinds without a schema package: checked in part
// What of them is Kubernetes' own types (checked with kubernetes-models); the rest waits for --crd.
const partialKinds = {
  "rabbitmq.com/v1beta1|RabbitmqCluster": {
    why: "no schema of rabbitmq.com/v1beta1 is published on the npm registry",
    parts: [
      [["spec", "resources"], "v1", "ResourceRequirements"],
      [["spec", "affinity"], "v1", "Affinity"],
      [["spec", "tolerations", "*"], "v1", "Toleration"],
      [["spec", "imagePullSecrets", "*"], "v1", "LocalObjectReference"],
    ],
  },
};
const objectMeta = ["@kubernetes-models/apimachinery/apis/meta/v1", "ObjectMeta"];

function at(obj, pathParts) {
  // [[path, value]] for a path whose "*" entries expand over arrays.
  let found = [[[], obj]];
  for (const part of pathParts) {
    const next = [];
    for (const [p, v] of found) {
      if (v === null || v === undefined) continue;
      if (part === "*") {
        if (Array.isArray(v)) v.forEach((item, i) => next.push([[...p, i], item]));
      } else if (typeof v === "object" && part in v) next.push([[...p, part], v[part]]);
    }
    found = next;
  }
  return found;
}

// ------------------------------------------------------------------------------- unknown fields, through TypeScript
/**
 * Type-checks each target's value as an object literal of its TypeScript type; returns the problems per target index.
 * targets: [{ value, typeModule, typeName, prefix }]
 */
function unknownFieldProblems(targets) {
  const header = [];
  const lines = []; // { text, path, target }
  targets.forEach((t, i) => header.push(`import type { ${t.typeName} as T${i} } from ${JSON.stringify(t.typeModule)};`));
  const pad = (n) => "  ".repeat(n);
  const write = (v, p, depth, lead, target) => {
    if (v === null || typeof v !== "object") {
      lines.push({ text: `${pad(depth)}${lead}${v === undefined ? "undefined" : JSON.stringify(v)},`, path: p, target });
    } else if (Array.isArray(v)) {
      lines.push({ text: `${pad(depth)}${lead}[`, path: p, target });
      v.forEach((item, i) => write(item, [...p, i], depth + 1, "", target));
      lines.push({ text: `${pad(depth)}],`, path: p, target });
    } else {
      lines.push({ text: `${pad(depth)}${lead}{`, path: p, target });
      for (const [k, item] of Object.entries(v)) write(item, [...p, k], depth + 1, `${JSON.stringify(k)}: `, target);
      lines.push({ text: `${pad(depth)}},`, path: p, target });
    }
  };
  targets.forEach((t, i) => {
    lines.push({ text: `export const d${i}: T${i} =`, path: [], target: i });
    write(t.value, [], 0, "", i);
    lines[lines.length - 1].text = lines[lines.length - 1].text.replace(/,$/, ";");
  });
  const fileName = path.join(here, "__manifests__.mts");
  const text = [...header, ...lines.map((l) => l.text)].join("\n") + "\n";
  const compilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
    lib: ["lib.es2022.d.ts"],
  };
  const host = ts.createCompilerHost(compilerOptions, true);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, lang, ...rest) =>
    path.resolve(name) === fileName ? ts.createSourceFile(name, text, lang, true) : getSourceFile.call(host, name, lang, ...rest);
  host.fileExists = (name) => path.resolve(name) === fileName || fileExists.call(host, name);
  host.readFile = (name) => (path.resolve(name) === fileName ? text : readFile.call(host, name));
  const program = ts.createProgram([fileName], compilerOptions, host);
  const source = program.getSourceFile(fileName);
  const problems = targets.map(() => []);
  const general = [];
  for (const d of ts.getPreEmitDiagnostics(program, source)) {
    const message = ts.flattenDiagnosticMessageText(d.messageText, " ");
    if (d.file !== source || d.start === undefined) {
      general.push(message);
      continue;
    }
    const line = source.getLineAndCharacterOfPosition(d.start).line - header.length;
    if (line < 0) {
      general.push(`${message} (a schema package's type could not be loaded)`);
      continue;
    }
    const where = lines[line];
    const target = targets[where.target];
    const p = `${target.prefix}/${where.path.join("/")}`.replace(/\/+$/, "") || "/";
    const excess = /Object literal may only specify known properties, (?:but|and) '([^']+)' does not exist in type '([^']+)'/.exec(message);
    problems[where.target].push(
      excess
        ? `${p}: unknown field "${excess[1].replace(/^"|"$/g, "")}" (not in ${excess[2].replace(/^I(IoK8sApi\w+?V\d\w*?(?=[A-Z][a-z])|ComGithub\w+?V\d\w*?(?=[A-Z][a-z]))?/, "")})`
        : `${p}: ${message.replace(/IIoK8sApi\w+?V\d\w*?(?=[A-Z][a-z])|IComGithub\w+?V\d\w*?(?=[A-Z][a-z])/g, "")}`,
    );
  }
  if (general.length) throw new Error(`TypeScript could not check the manifests: ${general.join("; ")}`);
  return problems;
}

// ------------------------------------------------------------------------------------------- checking one object
/** Schema and unknown-field problems of each object; marks the ones checked only in part. */
async function checkDocuments(manifests) {
  const targets = []; // for TypeScript
  for (const m of manifests) {
    if (m.problems.length) continue;
    const obj = m.obj;
    if (typeof obj !== "object" || Array.isArray(obj)) {
      m.problems.push("not a Kubernetes object (a mapping with apiVersion and kind)");
      continue;
    }
    if (typeof obj.apiVersion !== "string" || typeof obj.kind !== "string") {
      m.problems.push("apiVersion and kind are required (strings)");
      continue;
    }
    const key = `${obj.apiVersion}|${obj.kind}`;
    const crd = crdValidators.get(key);
    const model = await resolveModel(obj.apiVersion, obj.kind);
    if (crd) {
      if (!crd.validate(obj)) {
        for (const e of crd.validate.errors) {
          const extra = e.keyword === "additionalProperties" ? ` "${e.params.additionalProperty}"` : "";
          m.problems.push(`${e.instancePath || "/"}: ${e.keyword === "additionalProperties" ? "unknown field" : e.message}${extra} (CRD ${crd.source})`);
        }
      }
      m.checkedBy = `CRD ${crd.source}`;
    }
    if (model) {
      m.problems.push(...modelErrors(model.cls, obj));
      targets.push({ m, value: obj, typeModule: model.typeModule, typeName: model.typeName, prefix: "" });
      m.checkedBy = m.checkedBy ? `${m.checkedBy} + ${model.pkg}` : model.pkg;
      continue;
    }
    // Not in the packages: its metadata, and the Kubernetes types it embeds.
    const metaModel = await import(objectMeta[0]).then((mod) => mod[objectMeta[1]]);
    if (obj.metadata !== undefined) {
      m.problems.push(...modelErrors(metaModel, obj.metadata, "/metadata"));
      targets.push({ m, value: obj.metadata, typeModule: `${objectMeta[0]}/${objectMeta[1]}`, typeName: `I${objectMeta[1]}`, prefix: "/metadata" });
    }
    if (crd) continue;
    const partial = partialKinds[key];
    if (!partial) {
      m.problems.push(`no schema for apiVersion ${obj.apiVersion}, kind ${obj.kind}: not in ${schemaPackages.join(", ")} (a typo in either? or give its CRD with --crd FILE)`);
      continue;
    }
    for (const [pathParts, version, kind] of partial.parts) {
      const sub = await resolveModel(version, kind, true);
      for (const [p, value] of at(obj, pathParts)) {
        const prefix = "/" + p.join("/");
        m.problems.push(...modelErrors(sub.cls, value, prefix));
        targets.push({ m, value, typeModule: sub.typeModule, typeName: sub.typeName, prefix });
      }
    }
    m.partly = partial.why;
  }
  if (targets.length) {
    const problems = unknownFieldProblems(targets);
    // A wrong type is reported by ajv already; TypeScript adds what ajv cannot see (unknown fields), and its other
    // findings only where ajv found nothing at that path.
    targets.forEach((t, i) => {
      for (const problem of problems[i]) {
        const at = problem.slice(0, problem.indexOf(": "));
        if (problem.includes(": unknown field ") || !t.m.problems.some((q) => q.startsWith(`${at}: `))) t.m.problems.push(problem);
      }
    });
  }
}

// ------------------------------------------------------------------------------- the deployment's own consistency
const clusterScoped = new Set(["Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass", "PriorityClass", "ClusterTriggerAuthentication"]);
const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const labelKinds = new Set(["Namespace", "Service"]); // names that must be DNS labels (63 characters)

function podTemplates(obj) {
  // [{ spec, labels, path }] of a workload's pod templates.
  switch (obj.kind) {
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
    case "ReplicaSet":
    case "Job":
      return obj.spec?.template ? [{ spec: obj.spec.template.spec ?? {}, labels: obj.spec.template.metadata?.labels ?? {}, path: "/spec/template" }] : [];
    case "CronJob":
      return obj.spec?.jobTemplate?.spec?.template
        ? [{ spec: obj.spec.jobTemplate.spec.template.spec ?? {}, labels: obj.spec.jobTemplate.spec.template.metadata?.labels ?? {}, path: "/spec/jobTemplate/spec/template" }]
        : [];
    case "Pod":
      return [{ spec: obj.spec ?? {}, labels: obj.metadata?.labels ?? {}, path: "" }];
    default:
      return [];
  }
}
const subset = (a = {}, b = {}) => Object.entries(a).every(([k, v]) => b[k] === v);
const isEqual = (a, b) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
function canonical(v) {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object") return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(v[k])]));
  return v;
}

/**
 * Problems across objects, added to each object's own list. expectations: what deploy/config says the gateway needs
 * (null when there is no deploy/config beside deploy/kubernetes).
 */
function checkConsistency(manifests, expectations) {
  // Every object that is one, valid or not, so that one wrong field does not make its references look missing too.
  const objects = manifests.filter((m) => m.obj && typeof m.obj === "object" && !Array.isArray(m.obj) && typeof m.obj.kind === "string" && typeof m.obj.apiVersion === "string");
  const namespaces = objects.filter((m) => m.obj.kind === "Namespace").map((m) => m.obj.metadata?.name);
  const home = namespaces.length === 1 ? namespaces[0] : null;
  const byKey = new Map();
  const find = (kind, ns, name) => byKey.get(`${kind}|${ns}|${name}`);

  // Names, namespaces, duplicates.
  for (const m of objects) {
    const { kind, metadata = {} } = m.obj;
    const name = metadata.name;
    if (name === undefined && metadata.generateName === undefined) m.problems.push("/metadata/name: required");
    if (name !== undefined) {
      const labelOnly = labelKinds.has(kind);
      if (typeof name !== "string" || !(labelOnly ? dnsLabel : dnsSubdomain).test(name) || name.length > (labelOnly ? 63 : 253)) {
        m.problems.push(`/metadata/name: "${name}" is not a DNS-1123 ${labelOnly ? "label (at most 63 characters)" : "subdomain"}: lower case letters, digits, '-'${labelOnly ? "" : " and '.'"}`);
      }
    }
    const scoped = !clusterScoped.has(kind);
    if (scoped && home && metadata.namespace !== home) m.problems.push(`/metadata/namespace: "${metadata.namespace ?? ""}", not ${home} (namespace.yaml)`);
    if (!scoped && metadata.namespace !== undefined) m.problems.push(`/metadata/namespace: ${kind} is cluster-scoped and takes none`);
    if (name === undefined) continue;
    const group = m.obj.apiVersion.includes("/") ? m.obj.apiVersion.split("/")[0] : "";
    const key = `${kind}|${scoped ? metadata.namespace : ""}|${name}`;
    const other = byKey.get(key);
    if (other && (other.obj.apiVersion.includes("/") ? other.obj.apiVersion.split("/")[0] : "") === group) {
      m.problems.push(`${kind}/${name} is defined twice (also in ${path.basename(other.source)})`);
    }
    byKey.set(key, m);
  }

  // What the operators make: verified against their sources (CloudNativePG api/v1/cluster_types.go suffixes,
  // RabbitMQ Cluster Operator's <cluster>-default-user).
  const made = new Map(); // "Secret|ns|name" -> { keys, by }
  for (const m of objects) {
    const { kind, apiVersion, metadata = {} } = m.obj;
    if (apiVersion === "postgresql.cnpg.io/v1" && kind === "Cluster") {
      made.set(`Secret|${metadata.namespace}|${metadata.name}-ca`, { keys: ["ca.crt", "ca.key"], by: `CloudNativePG Cluster ${metadata.name}` });
      made.set(`Secret|${metadata.namespace}|${metadata.name}-server`, { keys: ["tls.crt", "tls.key"], by: `CloudNativePG Cluster ${metadata.name}` });
      if (!m.obj.spec?.bootstrap?.initdb?.secret) made.set(`Secret|${metadata.namespace}|${metadata.name}-app`, { keys: ["username", "password", "uri"], by: `CloudNativePG Cluster ${metadata.name}` });
    }
    if (apiVersion === "rabbitmq.com/v1beta1" && kind === "RabbitmqCluster") {
      made.set(`Secret|${metadata.namespace}|${metadata.name}-default-user`, { keys: ["username", "password"], by: `RabbitmqCluster ${metadata.name}` });
    }
  }
  const keysOf = (kind, ns, name) => {
    const m = find(kind, ns, name);
    if (m) return Object.keys({ ...(m.obj.data ?? {}), ...(m.obj.stringData ?? {}), ...(m.obj.binaryData ?? {}) });
    return made.get(`${kind}|${ns}|${name}`)?.keys ?? null;
  };
  const need = (m, where, kind, ns, name, key, optional) => {
    if (optional) return;
    const keys = keysOf(kind, ns, name);
    if (keys === null) m.problems.push(`${where}: ${kind} ${name} is not defined in these manifests (nor made by an operator they declare)`);
    else if (key !== undefined && !keys.includes(key)) m.problems.push(`${where}: ${kind} ${name} has no key "${key}" (it has: ${keys.join(", ") || "none"})`);
  };

  const workloads = [];
  for (const m of objects) {
    const { kind, apiVersion, metadata = {}, spec = {} } = m.obj;
    const ns = metadata.namespace;
    for (const pod of podTemplates(m.obj)) {
      workloads.push({ m, pod });
      const p = `${pod.path}/spec`;
      if (kind !== "Pod" && kind !== "CronJob" && spec.selector?.matchLabels && !subset(spec.selector.matchLabels, pod.labels)) {
        m.problems.push(`/spec/selector: matches no label of its own pod template ${JSON.stringify(pod.labels)}`);
      }
      if (pod.spec.serviceAccountName && pod.spec.serviceAccountName !== "default" && !find("ServiceAccount", ns, pod.spec.serviceAccountName)) {
        m.problems.push(`${p}/serviceAccountName: ServiceAccount ${pod.spec.serviceAccountName} is not defined in these manifests`);
      }
      (pod.spec.topologySpreadConstraints ?? []).forEach((c, i) => {
        if (c.labelSelector?.matchLabels && !subset(c.labelSelector.matchLabels, pod.labels)) m.problems.push(`${p}/topologySpreadConstraints/${i}/labelSelector: does not select the pods it spreads`);
      });
      const volumes = new Map((pod.spec.volumes ?? []).map((v) => [v.name, v]));
      (pod.spec.volumes ?? []).forEach((v, i) => {
        const src = v.configMap ? ["ConfigMap", v.configMap.name, v.configMap] : v.secret ? ["Secret", v.secret.secretName, v.secret] : null;
        if (!src) return;
        const [vk, vn, vs] = src;
        need(m, `${p}/volumes/${i}`, vk, ns, vn, undefined, vs.optional);
        (vs.items ?? []).forEach((item, j) => need(m, `${p}/volumes/${i}/items/${j}`, vk, ns, vn, item.key, vs.optional));
      });
      (pod.spec.containers ?? []).concat(pod.spec.initContainers ?? []).forEach((c, ci) => {
        const cp = `${p}/containers/${ci}`;
        (c.envFrom ?? []).forEach((e, i) => {
          if (e.configMapRef) need(m, `${cp}/envFrom/${i}`, "ConfigMap", ns, e.configMapRef.name, undefined, e.configMapRef.optional);
          if (e.secretRef) need(m, `${cp}/envFrom/${i}`, "Secret", ns, e.secretRef.name, undefined, e.secretRef.optional);
        });
        (c.env ?? []).forEach((e, i) => {
          const ref = e.valueFrom?.secretKeyRef ? ["Secret", e.valueFrom.secretKeyRef] : e.valueFrom?.configMapKeyRef ? ["ConfigMap", e.valueFrom.configMapKeyRef] : null;
          if (ref) need(m, `${cp}/env/${i} (${e.name})`, ref[0], ns, ref[1].name, ref[1].key, ref[1].optional);
        });
        (c.volumeMounts ?? []).forEach((vm, i) => {
          if (!volumes.has(vm.name)) m.problems.push(`${cp}/volumeMounts/${i}: no volume named ${vm.name}`);
        });
        for (const port of ["livenessProbe", "readinessProbe", "startupProbe"].map((k) => c[k]?.httpGet?.port).filter((x) => typeof x === "string")) {
          if (!(c.ports ?? []).some((cport) => cport.name === port)) m.problems.push(`${cp}: a probe names port "${port}", which the container does not declare`);
        }
      });
    }
    if (apiVersion === "keda.sh/v1alpha1" && kind === "ScaledObject") {
      const t = spec.scaleTargetRef ?? {};
      if (!find(t.kind ?? "Deployment", ns, t.name)) m.problems.push(`/spec/scaleTargetRef: ${t.kind ?? "Deployment"} ${t.name} is not defined in these manifests`);
      (spec.triggers ?? []).forEach((tr, i) => {
        const ref = tr.authenticationRef;
        if (ref && (ref.kind ?? "TriggerAuthentication") === "TriggerAuthentication" && !find("TriggerAuthentication", ns, ref.name)) {
          m.problems.push(`/spec/triggers/${i}/authenticationRef: TriggerAuthentication ${ref.name} is not defined in these manifests`);
        }
      });
    }
    if (apiVersion === "keda.sh/v1alpha1" && kind === "TriggerAuthentication") {
      (spec.secretTargetRef ?? []).forEach((r, i) => need(m, `/spec/secretTargetRef/${i} (${r.parameter})`, "Secret", ns, r.name, r.key));
    }
    if (apiVersion === "postgresql.cnpg.io/v1" && kind === "Cluster" && spec.bootstrap?.initdb?.secret?.name) {
      const name = spec.bootstrap.initdb.secret.name;
      need(m, "/spec/bootstrap/initdb/secret", "Secret", ns, name, "username");
      need(m, "/spec/bootstrap/initdb/secret", "Secret", ns, name, "password");
      const secret = find("Secret", ns, name)?.obj;
      if (secret && secret.type !== "kubernetes.io/basic-auth") m.problems.push(`/spec/bootstrap/initdb/secret: Secret ${name} must be of type kubernetes.io/basic-auth (CloudNativePG)`);
      const user = secret?.stringData?.username ?? (secret?.data?.username ? Buffer.from(secret.data.username, "base64").toString() : undefined);
      const owner = spec.bootstrap.initdb.owner ?? spec.bootstrap.initdb.database ?? "app";
      if (user !== undefined && user !== owner) m.problems.push(`/spec/bootstrap/initdb/secret: its username "${user}" is not the owner "${owner}"`);
    }
    if (apiVersion === "rabbitmq.com/v1beta1" && kind === "RabbitmqCluster" && spec.tls?.secretName) {
      need(m, "/spec/tls/secretName", "Secret", ns, spec.tls.secretName, "tls.crt");
      need(m, "/spec/tls/secretName", "Secret", ns, spec.tls.secretName, "tls.key");
    }
  }

  // Counts that the schema types int-or-string: as a string, only a percentage is a count (the API server's rule).
  const percentOrInt = (m, where, v) => {
    if (typeof v === "string" && !/^[0-9]+%$/.test(v)) m.problems.push(`${where}: "${v}" is neither an integer nor a percentage`);
  };
  for (const m of objects) {
    const { kind, spec = {} } = m.obj;
    if (kind === "PodDisruptionBudget") for (const k of ["minAvailable", "maxUnavailable"]) percentOrInt(m, `/spec/${k}`, spec[k]);
    if (kind === "Deployment") for (const k of ["maxSurge", "maxUnavailable"]) percentOrInt(m, `/spec/strategy/rollingUpdate/${k}`, spec.strategy?.rollingUpdate?.[k]);
  }

  // Selectors that must find the workload's pods.
  for (const m of objects) {
    const { kind, metadata = {}, spec = {} } = m.obj;
    const ns = metadata.namespace;
    const inNs = workloads.filter((w) => w.m.obj.metadata?.namespace === ns);
    if (kind === "Service" && spec.selector && !inNs.some((w) => subset(spec.selector, w.pod.labels) && w.m.obj.kind !== "Job" && w.m.obj.kind !== "CronJob")) {
      m.problems.push(`/spec/selector: ${JSON.stringify(spec.selector)} selects no pods of the workloads in these manifests`);
    }
    if (kind === "Service") {
      (spec.ports ?? []).forEach((port, i) => {
        if (typeof port.targetPort !== "string") return;
        const pods = inNs.filter((w) => spec.selector && subset(spec.selector, w.pod.labels));
        if (pods.length && !pods.some((w) => (w.pod.spec.containers ?? []).some((c) => (c.ports ?? []).some((cp) => cp.name === port.targetPort)))) {
          m.problems.push(`/spec/ports/${i}/targetPort: no selected container has a port named "${port.targetPort}"`);
        }
      });
    }
    if (kind === "PodDisruptionBudget" && !inNs.some((w) => subset(spec.selector?.matchLabels, w.pod.labels) && w.m.obj.kind !== "Job")) {
      m.problems.push(`/spec/selector: selects no pods of the workloads in these manifests`);
    }
    if (kind === "NetworkPolicy" && !inNs.some((w) => subset(spec.podSelector?.matchLabels, w.pod.labels))) {
      m.problems.push(`/spec/podSelector: selects no pods of the workloads in these manifests`);
    }
  }
  for (const w of workloads) {
    const ns = w.m.obj.metadata?.namespace;
    const policies = objects.filter((m) => m.obj.kind === "NetworkPolicy" && m.obj.metadata?.namespace === ns);
    if (policies.length && !policies.some((pm) => subset(pm.obj.spec?.podSelector?.matchLabels, w.pod.labels))) {
      w.m.problems.push(`${w.pod.path}: its pods are selected by no NetworkPolicy of these manifests`);
    }
  }

  // A Job or CronJob of the same app runs with the Deployment's image, settings and mounts: only its args differ.
  const deployments = workloads.filter((w) => w.m.obj.kind === "Deployment");
  for (const w of workloads.filter((x) => x.m.obj.kind === "Job" || x.m.obj.kind === "CronJob")) {
    const app = w.pod.labels["app.kubernetes.io/name"];
    const d = deployments.find((x) => x.pod.labels["app.kubernetes.io/name"] === app && x.m.obj.metadata?.namespace === w.m.obj.metadata?.namespace);
    if (!app || !d) continue;
    const podIgnore = new Set(["containers", "restartPolicy", "topologySpreadConstraints", "affinity", "terminationGracePeriodSeconds", "activeDeadlineSeconds"]);
    const containerIgnore = new Set(["args", "command", "ports", "livenessProbe", "readinessProbe", "startupProbe", "lifecycle"]);
    const where = `${w.pod.path}/spec`;
    for (const k of new Set([...Object.keys(w.pod.spec), ...Object.keys(d.pod.spec)])) {
      if (!podIgnore.has(k) && !isEqual(w.pod.spec[k], d.pod.spec[k])) w.m.problems.push(`${where}/${k}: differs from Deployment ${d.m.obj.metadata.name}'s (the pod specs must agree but for args, probes and ports)`);
    }
    for (const c of w.pod.spec.containers ?? []) {
      const dc = (d.pod.spec.containers ?? []).find((x) => x.name === c.name);
      if (!dc) {
        w.m.problems.push(`${where}/containers: container ${c.name} is not one of Deployment ${d.m.obj.metadata.name}'s`);
        continue;
      }
      for (const k of new Set([...Object.keys(c), ...Object.keys(dc)])) {
        if (!containerIgnore.has(k) && !isEqual(c[k], dc[k])) w.m.problems.push(`${where}/containers/${c.name}/${k}: differs from Deployment ${d.m.obj.metadata.name}'s (the pod specs must agree but for args, probes and ports)`);
      }
    }
  }

  if (expectations) checkGatewayConfiguration(objects, deployments, find, keysOf, expectations);
}

/** The gateway's settings in the manifests against what deploy/config needs. */
function checkGatewayConfiguration(objects, deployments, find, keysOf, expect) {
  const d = deployments.find((w) => w.m.obj.metadata?.name === "integration-gateway");
  if (!d) {
    objects[0]?.problems.push("no Deployment integration-gateway to check the gateway's configuration on");
    return;
  }
  const m = d.m;
  const ns = m.obj.metadata.namespace;
  const container = (d.pod.spec.containers ?? [])[0] ?? {};
  // The environment as the container gets it (values from Secrets are only known to exist).
  const env = new Map();
  for (const e of container.envFrom ?? []) {
    const ref = e.configMapRef ? find("ConfigMap", ns, e.configMapRef.name) : e.secretRef ? find("Secret", ns, e.secretRef.name) : null;
    for (const [k, v] of Object.entries({ ...(ref?.obj.data ?? {}), ...(ref?.obj.stringData ?? {}) })) env.set(`${e.prefix ?? ""}${k}`, { value: v, from: ref });
  }
  for (const e of container.env ?? []) env.set(e.name, { value: e.value, from: null, valueFrom: e.valueFrom });
  const lookup = (key) => [...env.entries()].find(([k]) => k.toLowerCase() === key.toLowerCase());
  const where = "/spec/template/spec/containers/0";

  // The volume (and object) a path inside the container comes from.
  const mountOf = (file) => {
    const mounts = (container.volumeMounts ?? []).filter((vm) => file === vm.mountPath || file.startsWith(vm.mountPath.replace(/\/$/, "") + "/"));
    mounts.sort((a, b) => b.mountPath.length - a.mountPath.length);
    const vm = mounts[0];
    if (!vm) return null;
    const volume = (d.pod.spec.volumes ?? []).find((v) => v.name === vm.name);
    const rest = path.posix.relative(vm.mountPath, file);
    return { vm, volume, rest };
  };
  const objectOf = (volume) =>
    volume?.configMap ? ["ConfigMap", volume.configMap.name, volume.configMap] : volume?.secret ? ["Secret", volume.secret.secretName, volume.secret] : null;
  const needFile = (setting, file) => {
    const mount = mountOf(file);
    if (!mount) return m.problems.push(`${where}: ${setting} names ${file}, which no volumeMount provides`);
    const src = objectOf(mount.volume);
    if (!src) return; // emptyDir and the like
    const [kind, name, vs] = src;
    const key = vs.items ? vs.items.find((it) => it.path === mount.rest)?.key : mount.rest;
    const keys = keysOf(kind, ns, name);
    if (key === undefined || (keys && !keys.includes(key))) m.problems.push(`${where}: ${setting} names ${file}, which ${kind} ${name} (mounted at ${mount.vm.mountPath}) does not provide`);
  };
  const needDirectory = (setting) => {
    const entry = lookup(setting);
    if (!entry || typeof entry[1].value !== "string") {
      m.problems.push(`${where}: ${setting} is not set`);
      return null;
    }
    const mount = mountOf(entry[1].value);
    if (!mount || mount.rest !== "") {
      m.problems.push(`${where}: ${setting} is ${entry[1].value}, where no volume is mounted`);
      return null;
    }
    const src = objectOf(mount.volume);
    return src ? { kind: src[0], name: src[1], obj: find(src[0], ns, src[1])?.obj } : null;
  };

  // Secrets the gateway does not start without.
  for (const key of ["RabbitMq__Password", "ConnectionStrings__Gateway", "Ledger__Key", "Sealing__Key"]) {
    const entry = lookup(key);
    if (!entry) m.problems.push(`${where}: ${key} is not set (the gateway does not start without it)`);
    else if (entry[1].value !== undefined && !entry[1].valueFrom && !(entry[1].from?.obj.kind === "Secret")) m.problems.push(`${where}: ${key} is a secret: give it from a Secret, not as a value`);
  }
  for (const key of ["RabbitMq__Host"]) if (!lookup(key)) m.problems.push(`${where}: ${key} is not set (the gateway does not start without it)`);
  const tls = lookup("RabbitMq__Tls__Enabled")?.[1].value;
  if (String(tls).toLowerCase() !== "true") m.problems.push(`${where}: RabbitMq__Tls__Enabled is not "true": the gateway refuses a broker off loopback without TLS`);
  const caFile = lookup("RabbitMq__Tls__CaFile")?.[1].value;
  if (caFile) needFile("RabbitMq__Tls__CaFile", caFile);
  // The connection string's Root Certificate, where its Secret is in these manifests.
  const cs = lookup("ConnectionStrings__Gateway")?.[1].valueFrom?.secretKeyRef;
  const csSecret = cs ? find("Secret", ns, cs.name)?.obj : null;
  const csText = csSecret?.stringData?.[cs.key] ?? (csSecret?.data?.[cs.key] ? Buffer.from(csSecret.data[cs.key], "base64").toString() : undefined);
  if (csText) {
    const parts = Object.fromEntries(csText.split(";").filter(Boolean).map((kv) => kv.split("=")).map(([k, ...v]) => [k.trim().toLowerCase().replace(/\s+/g, " "), v.join("=").trim()]));
    if ((parts["ssl mode"] ?? parts["sslmode"] ?? "").toLowerCase() !== "verifyfull") m.problems.push(`Secret ${cs.name}: its connection string lacks SSL Mode=VerifyFull (required off loopback)`);
    const root = parts["root certificate"] ?? parts["rootcertificate"];
    if (root) needFile(`ConnectionStrings__Gateway's Root Certificate`, root);
  }

  // Agreements and controllers: the mounted ConfigMaps hold the files of deploy/config, unchanged.
  for (const [setting, dir, files] of [["Agreements__Directory", "agreements", expect.agreementFiles], ["Controllers__Directory", "controllers", expect.controllerFiles]]) {
    const src = needDirectory(setting);
    if (!src) continue;
    const cm = find(src.kind, ns, src.name);
    if (!cm) continue; // reported as a missing reference already
    const data = cm.obj.data ?? {};
    for (const [file, content] of Object.entries(files)) {
      if (!(file in data)) cm.problems.push(`/data: no key ${file} (deploy/config/${dir}/${file}): run configmaps.sh again`);
      else if (data[file] !== content) cm.problems.push(`/data/${file}: not the same text as deploy/config/${dir}/${file}`);
    }
    for (const key of Object.keys(data)) if (!(key in files)) cm.problems.push(`/data/${key}: no such file in deploy/config/${dir}`);
  }

  // Each recipient of an agreement: an https BaseUrl and a signing secret.
  const signing = needDirectory("Signing__SecretsDirectory");
  const signingKeys = signing ? keysOf(signing.kind, ns, signing.name) ?? [] : [];
  for (const id of expect.recipients) {
    const entry = lookup(`Recipients__${id}__BaseUrl`);
    if (!entry) m.problems.push(`${where}: no Recipients__${id}__BaseUrl for recipient ${id} (an agreement names it)`);
    else if (typeof entry[1].value === "string" && !/^https:\/\//i.test(entry[1].value)) {
      (entry[1].from ?? m).problems.push(`Recipients__${id}__BaseUrl: ${entry[1].value} is not https (refused at start outside Development)`);
    }
    const secret = lookup(`Recipients__${id}__SigningSecret`) ?? lookup(`Recipients__${id}__SigningSecretFile`);
    if (!secret && signing && !signingKeys.includes(`${id.toLowerCase()}.whsec`)) {
      (find(signing.kind, ns, signing.name) ?? m).problems.push(`no key ${id.toLowerCase()}.whsec for recipient ${id} (Signing:SecretsDirectory; an agreement names it)`);
    }
  }
  // Each controller publisher's password, for the verbs that publish.
  const publishers = find("Secret", ns, "integration-gateway-publishers");
  if (publishers) {
    const keys = keysOf("Secret", ns, "integration-gateway-publishers");
    for (const user of expect.brokerUsers) if (!keys.includes(`${user}.password`)) publishers.problems.push(`no key ${user}.password (a brokerUser of deploy/config/controllers)`);
    for (const key of keys) if (!expect.brokerUsers.includes(key.replace(/\.password$/, ""))) publishers.problems.push(`key ${key}: no controller has that broker user`);
  }
  // Names that are not C identifiers pass only from Kubernetes 1.32 (RelaxedEnvironmentVariableValidation: beta, on
  // by default, in 1.32; GA in 1.34; relaxedEnvNames notes them), and never with "=" or outside printable ASCII.
  const relaxed = [...env.keys()].filter((k) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k));
  const bad = relaxed.filter((k) => !/^[\x20-\x7e]+$/.test(k) || k.includes("="));
  for (const k of bad) m.problems.push(`${where}: environment variable name ${JSON.stringify(k)}: only printable ASCII without "=" is allowed`);
}

// ---------------------------------------------------------------------------------------------------- the inputs
/** What deploy/config says the gateway needs; null without deploy/config. */
function readExpectations(root) {
  const config = path.resolve(root, "..", "config");
  if (!fs.existsSync(path.join(config, "agreements"))) return null;
  const filesOf = (dir) =>
    Object.fromEntries(
      fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")]),
    );
  const agreementFiles = filesOf(path.join(config, "agreements"));
  const controllerFiles = filesOf(path.join(config, "controllers"));
  const recipients = [...new Set(Object.values(agreementFiles).map((t) => YAML.parse(t)?.recipient).filter(Boolean).map((r) => String(r).toLowerCase()))].sort();
  const brokerUsers = [...new Set(Object.values(controllerFiles).flatMap((t) => YAML.parse(t)?.brokerUsers ?? []))].sort();
  return { agreementFiles, controllerFiles, recipients, brokerUsers };
}

/** The manifests: kustomization.yaml's resources, the files kept out of it on purpose, configmaps.sh's output. */
function readManifests(root, problems) {
  const kustomization = path.join(root, "kustomization.yaml");
  const listed = [];
  if (fs.existsSync(kustomization)) {
    const k = YAML.parse(fs.readFileSync(kustomization, "utf8"), { version: "1.1" }) ?? {};
    for (const key of Object.keys(k)) {
      if (!["apiVersion", "kind", "resources"].includes(key)) problems.push(`kustomization.yaml: ${key}: the manifests are plain files, kept so that validate.sh renders them itself; use resources only`);
    }
    for (const r of k.resources ?? []) {
      const file = path.resolve(root, r);
      if (!fs.existsSync(file) || !fs.statSync(file).isFile()) problems.push(`kustomization.yaml: resource ${r} is not a file here`);
      else listed.push(file);
    }
  }
  const outside = [];
  for (const f of fs.readdirSync(root).filter((x) => /\.ya?ml$/.test(x) && x !== "kustomization.yaml").sort()) {
    const file = path.join(root, f);
    if (listed.includes(file)) continue;
    if (/\.example\.ya?ml$|-job\.ya?ml$/.test(f)) outside.push(file);
    else problems.push(`${f}: not in kustomization.yaml's resources (only *.example.yaml and *-job.yaml stay out)`);
  }
  const manifests = [];
  for (const file of [...listed, ...outside]) manifests.push(...parseStream(fs.readFileSync(file, "utf8"), file).map((m) => ({ ...m, listed: listed.includes(file) })));
  const generator = path.join(root, "configmaps.sh");
  if (fs.existsSync(generator)) {
    const run = spawnSync("bash", [generator], { encoding: "utf8" });
    if (run.status !== 0) problems.push(`configmaps.sh failed (${run.status}): ${run.stderr.trim()}`);
    else manifests.push(...parseStream(run.stdout, path.join(root, "configmaps.sh (output)")));
  }
  return { manifests, listed };
}

/** kubectl kustomize's rendering of the kustomization, against the files it lists; a note when kubectl is absent. */
function checkKustomize(root, manifests, problems) {
  const kubectl = spawnSync("bash", ["-c", "command -v kubectl"], { encoding: "utf8" }).stdout.trim();
  if (!kubectl) return "kustomize: kubectl is not installed, so kustomization.yaml was not rendered by kustomize (it lists plain files only, validated above)";
  let version = "";
  try {
    version = execFileSync(kubectl, ["version", "--client", "-o", "json"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const v = JSON.parse(version);
    version = `kubectl ${v.clientVersion?.gitVersion ?? "?"}, kustomize ${v.kustomizeVersion ?? "?"}`;
  } catch {
    version = "kubectl";
  }
  const run = spawnSync(kubectl, ["kustomize", root], { encoding: "utf8" });
  if (run.status !== 0) {
    problems.push(`kubectl kustomize ${path.relative(process.cwd(), root) || "."} failed: ${run.stderr.trim().split("\n")[0]}`);
    return null;
  }
  const rendered = parseStream(run.stdout, "kubectl kustomize");
  const key = (o) => `${o.apiVersion}|${o.kind}|${o.metadata?.namespace ?? ""}|${o.metadata?.name}`;
  const files = new Map(manifests.filter((m) => m.listed && m.obj).map((m) => [key(m.obj), m.obj]));
  const out = new Map(rendered.filter((m) => m.obj).map((m) => [key(m.obj), m.obj]));
  for (const [k, obj] of out) {
    if (!files.has(k)) problems.push(`kubectl kustomize renders ${k.replaceAll("|", " ")}, which no listed file defines`);
    else if (!isEqual(obj, files.get(k))) problems.push(`kubectl kustomize renders ${k.replaceAll("|", " ")} otherwise than its file has it (YAML read differently?)`);
  }
  for (const k of files.keys()) if (!out.has(k)) problems.push(`kubectl kustomize leaves out ${k.replaceAll("|", " ")}`);
  return `kustomize (${version}): kustomization.yaml renders the ${out.size} objects of its files, unchanged`;
}

// ------------------------------------------------------------------------------------------------------- running
async function validate(manifests, expectations) {
  await checkDocuments(manifests);
  try {
    checkConsistency(manifests, expectations);
  } catch (e) {
    // Objects malformed enough to break the cross-checks have schema problems of their own, reported already.
    if (!manifests.some((m) => m.problems.length)) throw e;
  }
}

function versions() {
  return [
    `kubernetes-models ${packageVersion("kubernetes-models")} (Kubernetes' OpenAPI up to 1.36)`,
    `@kubernetes-models/keda ${packageVersion("@kubernetes-models/keda")} (KEDA 2.19)`,
    `@kubernetes-models/cloudnative-pg ${packageVersion("@kubernetes-models/cloudnative-pg")} (CloudNativePG 1.29)`,
    `typescript ${ts.version} (unknown fields)`,
    `yaml ${packageVersion("yaml")}`,
  ].join(", ");
}

async function main() {
  loadCrds(options.crds);
  if (options.selfTest) return selfTest();
  console.log(`validator: ${versions()}`);
  for (const [key, crd] of crdValidators) console.log(`validator: CRD ${crd.source}: ${key.replace("|", " ")}`);
  const problems = [];
  const { manifests } = readManifests(options.root, problems);
  const expectations = readExpectations(options.root);
  await validate(manifests, expectations);
  const kustomize = problems.length ? null : checkKustomize(options.root, manifests, problems);
  let invalid = 0;
  for (const m of manifests) {
    if (m.problems.length) {
      invalid++;
      console.log(`INVALID ${label(m)}`);
      for (const p of m.problems) console.log(`    ${p}`);
    } else {
      console.log(`ok      ${label(m)}${m.partly ? "  (in part: see below)" : ""}`);
    }
  }
  for (const p of problems) console.log(`ERROR   ${p}`);
  if (expectations) {
    console.log(`gateway: ${expectations.recipients.length} recipients and ${expectations.brokerUsers.length} broker users of deploy/config, ${Object.keys(expectations.agreementFiles).length} agreement and ${Object.keys(expectations.controllerFiles).length} controller files checked against the manifests`);
    const relaxedNames = relaxedEnvNames(manifests);
    if (relaxedNames.length) {
      console.log(`note: ${relaxedNames.length} environment variable name(s) are not C identifiers (${relaxedNames.slice(0, 2).join(", ")}${relaxedNames.length > 2 ? ", ..." : ""}): the kubelet passes them from Kubernetes 1.32 on (RelaxedEnvironmentVariableValidation)`);
    }
  }
  for (const m of manifests.filter((x) => x.partly && !x.problems.length)) {
    console.log(`note: ${label(m)} checked in part: ${m.partly}; its metadata and the Kubernetes types it embeds were checked (validate.sh --crd <its CRD file> checks it whole)`);
  }
  if (kustomize) console.log(kustomize);
  if (invalid || problems.length) {
    console.log(`${invalid} of ${manifests.length} manifest(s) invalid${problems.length ? `, ${problems.length} other problem(s)` : ""}`);
    process.exit(1);
  }
  console.log(`${manifests.length} manifest(s) valid`);
}

function relaxedEnvNames(manifests) {
  const names = new Set();
  for (const m of manifests) {
    if (!m.obj || m.obj.kind !== "ConfigMap") continue;
    const used = manifests.some((w) => podTemplates(w.obj ?? {}).some((p) => (p.spec.containers ?? []).some((c) => (c.envFrom ?? []).some((e) => e.configMapRef?.name === m.obj.metadata?.name))));
    if (!used) continue;
    for (const k of Object.keys(m.obj.data ?? {})) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) names.add(k);
  }
  return [...names];
}

// ----------------------------------------------------------------------------------------------------- self-test
// Each file of self-test/ is one broken manifest (or a few), with header lines:
//   # expect: TEXT     a problem must contain TEXT (case-insensitive); required
//   # with: manifests  validated together with the real manifests, replacing those of the same kind and name
//   # merge: true      (with manifests) each document is a JSON merge patch (RFC 7386: null deletes) of the real one
//   # needs-crd: API   skipped unless --crd gave a CRD for that apiVersion|kind
async function selfTest() {
  const dir = path.join(here, "self-test");
  const problems = [];
  const { manifests: real } = readManifests(options.root, problems);
  const expectations = readExpectations(options.root);
  if (problems.length) throw new Error(`the real manifests could not be read: ${problems.join("; ")}`);
  // The real manifests must pass first, or every case would "fail" for another reason.
  const baseline = real.map((m) => ({ ...m, problems: [...m.problems] }));
  await validate(baseline, expectations);
  const broken = baseline.filter((m) => m.problems.length);
  if (broken.length) {
    console.log(`self-test: the real manifests are not valid (${broken.map(label).join(", ")}): run validate.sh first`);
    process.exit(1);
  }
  let refused = 0, accepted = 0, skipped = 0;
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort();
  for (const f of files) {
    const file = path.join(dir, f);
    const text = fs.readFileSync(file, "utf8");
    const header = (name) => [...text.matchAll(new RegExp(`^# ${name}: (.+)$`, "gm"))].map((x) => x[1].trim());
    const expect = header("expect");
    if (!expect.length) throw new Error(`self-test/${f}: no "# expect:" line`);
    const needsCrd = header("needs-crd")[0];
    if (needsCrd && !crdValidators.has(needsCrd.replace(/\/(\w+)$/, "|$1"))) {
      skipped++;
      console.log(`skipped  ${f}: needs --crd for ${needsCrd}`);
      continue;
    }
    let cases = parseStream(text, file);
    if (header("with")[0] === "manifests") {
      const key = (o) => `${o?.kind}|${o?.metadata?.name}`;
      if (header("merge")[0] === "true") {
        cases = cases.map((c) => {
          const original = real.find((m) => key(m.obj) === key(c.obj));
          if (!original) throw new Error(`self-test/${f}: no real ${key(c.obj).replace("|", "/")} to patch`);
          return { ...original, obj: mergePatch(structuredClone(original.obj), c.obj), problems: [] };
        });
      }
      const replaced = new Set(cases.map((c) => key(c.obj)));
      cases = [...real.filter((m) => !replaced.has(key(m.obj))).map((m) => ({ ...m, problems: [...m.problems] })), ...cases];
      await validate(cases, expectations);
    } else {
      await checkDocuments(cases);
    }
    // Matched against the problem and the object's kind/name, not the case's file name.
    const found = cases.flatMap((c) => c.problems.map((p) => ({ text: `${label(c)}: ${p}`, against: `${c.obj?.kind}/${c.obj?.metadata?.name}: ${p}` })));
    const match = found.find((p) => expect.every((e) => p.against.toLowerCase().includes(e.toLowerCase())))?.text;
    if (match) {
      refused++;
      console.log(`refused  ${f}: ${match}`);
    } else {
      accepted++;
      console.log(`${found.length ? "MISSED  " : "ACCEPTED"} ${f}: expected a problem with ${expect.map((e) => JSON.stringify(e)).join(" and ")}; ${found.length ? `got only: ${found.map((p) => p.text).join(" | ")}` : "no problem found"}`);
    }
  }
  const summary = `${refused} broken manifest(s) refused, ${accepted} accepted or refused for another reason${skipped ? `, ${skipped} skipped (no --crd)` : ""}`;
  console.log(summary);
  if (accepted || !refused) process.exit(1);
}

function mergePatch(target, patch) {
  if (!patch || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const out = target && typeof target === "object" && !Array.isArray(target) ? target : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

main().catch((e) => {
  console.error(`validate: ${e.stack ?? e}`);
  process.exit(1);
});
