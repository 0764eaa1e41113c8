/**
 * The OpenAPI document stays the contract: every property of every interface
 * in the package's emitted `types.d.ts` (read with the TypeScript compiler
 * API) must exist in the running gateway's `/openapi.json`, in the schema of
 * the same name, with the same JSON type. The fields come from the SDK's own
 * declarations, so renaming a field on either side fails here.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import ts from "typescript";

import { Gateway, PACKAGE_ROOT } from "./gateway.js";

type Schema = Record<string, unknown>;
interface Document {
  paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: Schema }> } }>>;
  components: { schemas: Record<string, Schema> };
}

/** A JSON type: type names, enum values, element shape, and the schema name for objects. */
interface Shape {
  types: Set<string>;
  enumValues?: Set<string>;
  items?: Shape;
  ref?: string;
}

interface Field {
  name: string;
  optional: boolean;
  shape: Shape;
}

/** The exported interfaces of dist/types.d.ts and their properties' shapes. */
function sdkInterfaces(): Map<string, Field[]> {
  const file = join(PACKAGE_ROOT, "dist", "types.d.ts");
  const program = ts.createProgram([file], { strict: true, noEmit: true });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  assert.ok(source, `${file} is missing: build the package first`);
  const declarations = source.statements.filter(ts.isInterfaceDeclaration);
  const names = new Set(declarations.map((d) => d.name.text));

  function shape(type: ts.Type): Shape {
    if (type.isUnion()) {
      const parts = type.types.filter((t) => !(t.flags & ts.TypeFlags.Undefined));
      const literals = parts.filter((t) => t.isStringLiteral());
      const rest = parts.filter((t) => !t.isStringLiteral() && !(t.flags & ts.TypeFlags.Null));
      const nullable = parts.some((t) => t.flags & ts.TypeFlags.Null);
      const booleans = rest.every((t) => t.flags & ts.TypeFlags.BooleanLiteral) && rest.length > 0;
      let result: Shape;
      if (literals.length > 0 && rest.length === 0) {
        result = { types: new Set(["string"]), enumValues: new Set(literals.map((t) => (t as ts.StringLiteralType).value)) };
      } else if (booleans) {
        result = { types: new Set(["boolean"]) };
      } else {
        assert.equal(rest.length, 1, `unsupported union ${checker.typeToString(type)}`);
        result = shape(rest[0] as ts.Type);
      }
      if (nullable) result.types.add("null");
      return result;
    }
    if (type.flags & ts.TypeFlags.String) return { types: new Set(["string"]) };
    if (type.flags & ts.TypeFlags.Number) return { types: new Set(["number"]) };
    if (type.flags & (ts.TypeFlags.Boolean | ts.TypeFlags.BooleanLiteral)) return { types: new Set(["boolean"]) };
    if (checker.isArrayType(type)) {
      const [element] = checker.getTypeArguments(type as ts.TypeReference);
      assert.ok(element);
      return { types: new Set(["array"]), items: shape(element) };
    }
    const symbol = type.aliasSymbol ?? type.getSymbol();
    if (symbol && names.has(symbol.getName())) return { types: new Set(["object"]), ref: symbol.getName() };
    const index = type.getStringIndexType();
    if (index) {
      const result: Shape = { types: new Set(["object"]) };
      if (!(index.flags & ts.TypeFlags.Unknown)) result.items = shape(index);
      return result;
    }
    assert.fail(`unsupported type ${checker.typeToString(type)}`);
  }

  const result = new Map<string, Field[]>();
  for (const declaration of declarations) {
    const type = checker.getTypeAtLocation(declaration);
    result.set(
      declaration.name.text,
      type.getProperties().map((property) => ({
        name: property.getName(),
        optional: (property.flags & ts.SymbolFlags.Optional) !== 0,
        shape: shape(checker.getTypeOfSymbolAtLocation(property, declaration)),
      })),
    );
  }
  return result;
}

/** The shape of an OpenAPI 3.1 schema, following `$ref`s and the `oneOf` wrappers utoipa writes for nullable references. */
function schemaShape(document: Document, schema: Schema): Shape {
  if (typeof schema["$ref"] === "string") {
    const name = schema["$ref"].split("/").pop() ?? "";
    const target = document.components.schemas[name];
    assert.ok(target, `dangling reference ${schema["$ref"]}`);
    const result = schemaShape(document, target);
    if ("properties" in target) result.ref = name;
    return result;
  }
  for (const combinator of ["oneOf", "anyOf", "allOf"]) {
    const parts = schema[combinator];
    if (Array.isArray(parts)) {
      const shapes = parts.map((part) => schemaShape(document, part as Schema));
      const real = shapes.filter((s) => !(s.types.size === 1 && s.types.has("null")));
      assert.equal(real.length, 1, `unsupported ${combinator}: ${JSON.stringify(schema)}`);
      const result = real[0] as Shape;
      if (real.length !== shapes.length) result.types.add("null");
      return result;
    }
  }
  const declared = schema["type"];
  const types = new Set<string>(Array.isArray(declared) ? declared : typeof declared === "string" ? [declared] : []);
  if (types.size === 0 && "properties" in schema) types.add("object");
  const result: Shape = { types };
  if (Array.isArray(schema["enum"])) {
    result.enumValues = new Set(schema["enum"].filter((v) => v !== null).map(String));
  }
  if (types.has("array") && schema["items"]) result.items = schemaShape(document, schema["items"] as Schema);
  const values = schema["additionalProperties"];
  if (types.has("object") && typeof values === "object" && values !== null) result.items = schemaShape(document, values as Schema);
  return result;
}

/** The schemas the API takes as request bodies (the SDK writes them). */
function sentSchemas(document: Document): Set<string> {
  const names = new Set<string>();
  for (const operations of Object.values(document.paths)) {
    for (const operation of Object.values(operations)) {
      for (const media of Object.values(operation.requestBody?.content ?? {})) {
        const schema = media.schema ?? {};
        const refs = [schema["$ref"], ...((schema["oneOf"] as Schema[] | undefined) ?? []).map((s) => s["$ref"])];
        for (const ref of refs) if (typeof ref === "string") names.add(ref.split("/").pop() ?? "");
      }
    }
  }
  return names;
}

/** JSON Schema integers are TypeScript numbers. */
function plain(types: Set<string>): string[] {
  return [...types].filter((t) => t !== "null").map((t) => (t === "integer" ? "number" : t)).sort();
}

function mismatches(path: string, ours: Shape, theirs: Shape, sent: boolean): string[] {
  const problems: string[] = [];
  if (plain(ours.types).join() !== plain(theirs.types).join()) {
    problems.push(`${path}: the SDK reads ${plain(ours.types)}, the API says ${plain(theirs.types)}`);
  }
  if (sent && ours.types.has("null") && !theirs.types.has("null")) problems.push(`${path}: the SDK may send null, the API does not take it`);
  if (!sent && theirs.types.has("null") && !ours.types.has("null")) problems.push(`${path}: the API may send null, the SDK's type does not allow it`);
  if (ours.enumValues && [...ours.enumValues].sort().join() !== [...(theirs.enumValues ?? [])].sort().join()) {
    problems.push(`${path}: the SDK knows ${[...ours.enumValues]}, the API says ${[...(theirs.enumValues ?? [])]}`);
  }
  if (ours.ref !== undefined && ours.ref !== theirs.ref) problems.push(`${path}: the SDK reads it as ${ours.ref}, the API as ${theirs.ref}`);
  if (ours.items) {
    if (!theirs.items) problems.push(`${path}: the API does not say what its elements are`);
    else problems.push(...mismatches(`${path}[]`, ours.items, theirs.items, sent));
  }
  return problems;
}

describe("the OpenAPI contract", () => {
  let gateway: Gateway;
  let document: Document;
  const interfaces = sdkInterfaces();

  before(async () => {
    gateway = await Gateway.start();
    document = (await (await fetch(`${gateway.url}/openapi.json`)).json()) as Document;
  });
  after(async () => {
    await gateway.close();
  });

  it("the SDK declares the schemas it reads", () => {
    for (const name of ["Approval", "Decision", "Review", "QuorumStage", "Event", "ReceiptClaims", "CheckResult"]) {
      assert.ok(interfaces.has(name), name);
    }
  });

  for (const [name, fields] of interfaces) {
    it(`every ${name} field exists in /openapi.json with the same type`, () => {
      const schema = document.components.schemas[name];
      assert.ok(schema, `/openapi.json has no schema ${name}`);
      const properties = (schema["properties"] ?? {}) as Record<string, Schema>;
      const required = new Set((schema["required"] as string[] | undefined) ?? []);
      const sent = sentSchemas(document).has(name);
      const problems: string[] = [];
      for (const field of fields) {
        const property = properties[field.name];
        if (!property) {
          problems.push(`${name}.${field.name}: not in the API's schema (fields: ${Object.keys(properties).join(", ")})`);
          continue;
        }
        problems.push(...mismatches(`${name}.${field.name}`, field.shape, schemaShape(document, property), sent));
        if (!sent && !field.optional && !field.shape.types.has("null") && !required.has(field.name)) {
          problems.push(`${name}.${field.name}: the SDK counts on it, the API does not list it as required`);
        }
      }
      assert.deepEqual(problems, []);
    });
  }
});
