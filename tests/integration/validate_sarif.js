// Validates SARIF logs against the SARIF 2.1.0 JSON schema (draft-04) with Ajv 6.
// usage: node validate_sarif.js NODE_PREFIX FILE...   (NODE_PREFIX holds node_modules/ with
// @microsoft/jest-sarif, which ships the schema, and ajv@6); prints one line per file.
"use strict";
const fs = require("fs");
const path = require("path");

const prefix = path.resolve(process.argv[2]);
const modules = path.join(prefix, "node_modules");
const Ajv = require(path.join(modules, "ajv"));
const schema = JSON.parse(fs.readFileSync(
    path.join(modules, "@microsoft", "jest-sarif", "lib", "schemas", "sarif-2.1.0-rtm.5.json"), "utf8"));
const ajv = new Ajv({ schemaId: "id", allErrors: true, format: "full", meta: false });
ajv.addMetaSchema(require(path.join(modules, "ajv", "lib", "refs", "json-schema-draft-04.json")));
const validate = ajv.compile(schema);

let failed = 0;
for (const file of process.argv.slice(3)) {
    let doc;
    try {
        doc = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (err) {
        console.log(`${file}: not JSON: ${err.message}`);
        failed++;
        continue;
    }
    if (validate(doc)) {
        console.log(`${file}: valid SARIF 2.1.0`);
    } else {
        failed++;
        for (const e of validate.errors)
            console.log(`${file}: ${e.dataPath || "/"} ${e.message} ${JSON.stringify(e.params)}`);
    }
}
process.exit(failed ? 1 : 0);
