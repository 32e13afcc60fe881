#!/usr/bin/python3
"""Checks a schema registry's REST answers against the shapes Confluent
documents, with plain HTTP requests (python3-requests), nothing of corps.

  registry_rest.py URL

Prints one line per check passed; exits 1 at the first that fails, saying
what was asked, what came back and what was expected.
"""
import sys

import requests

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
V1 = 'syntax = "proto3";\npackage shop;\nmessage Order {\n  string id = 1;\n}\n'
V2 = 'syntax = "proto3";\npackage shop;\nmessage Order {\n  string id = 1;\n  int64 cents = 2;\n}\n'
CLASH = 'syntax = "proto3";\npackage shop;\nmessage Order {\n  int64 id = 1;\n}\n'
MONEY = 'syntax = "proto3";\npackage shop;\nmessage Money {\n  int64 cents = 1;\n}\n'
PRICED = ('syntax = "proto3";\npackage shop;\nimport "shop/money.proto";\n'
          'message Priced {\n  Money price = 1;\n}\n')


class Registry:
    def __init__(self, url):
        self.url = url.rstrip("/")

    def call(self, method, path, body=None):
        headers = {"Accept": CONTENT_TYPE}
        if body is not None:
            headers["Content-Type"] = CONTENT_TYPE
        response = requests.request(method, self.url + path, json=body, headers=headers, timeout=10)
        return response.status_code, response.headers.get("Content-Type", ""), response.json()


def check(what, got, expected):
    if got != expected:
        print(f"FAILED {what}: got {got!r}, expected {expected!r}", file=sys.stderr)
        sys.exit(1)
    print("ok", what)


def check_error(what, answer, status, error_code):
    got_status, _, body = answer
    check(what + " status", got_status, status)
    check(what + " error_code", body.get("error_code"), error_code)
    check(what + " message is text", isinstance(body.get("message"), str) and body["message"] != "", True)


def main(url):
    r = Registry(url)
    check("GET /subjects when empty", r.call("GET", "/subjects")[2], [])
    status, content_type, body = r.call("POST", "/subjects/Orders-value/versions",
                                        {"schema": V1, "schemaType": "PROTOBUF"})
    check("POST /subjects/{s}/versions status", status, 200)
    check("content type", content_type.split(";")[0], CONTENT_TYPE)
    check("POST /subjects/{s}/versions answers only an id", sorted(body), ["id"])
    first_id = body["id"]
    check("the same schema again keeps its id",
          r.call("POST", "/subjects/Orders-value/versions", {"schema": V1, "schemaType": "PROTOBUF"})[2],
          {"id": first_id})
    second_id = r.call("POST", "/subjects/Orders-value/versions",
                       {"schema": V2, "schemaType": "PROTOBUF"})[2]["id"]
    check("a new schema gets a new id", second_id != first_id, True)

    status, _, body = r.call("POST", "/subjects/Orders-value", {"schema": V1, "schemaType": "PROTOBUF"})
    check("POST /subjects/{s} (look-up) status", status, 200)
    check("look-up answer", {k: body[k] for k in ("subject", "version", "id", "schema")},
          {"subject": "Orders-value", "version": 1, "id": first_id, "schema": V1})

    check("GET /subjects/{s}/versions", r.call("GET", "/subjects/Orders-value/versions")[2], [1, 2])
    body = r.call("GET", "/subjects/Orders-value/versions/latest")[2]
    check("GET .../versions/latest", (body["subject"], body["version"], body["id"], body["schemaType"]),
          ("Orders-value", 2, second_id, "PROTOBUF"))
    check("GET .../versions/1 schema", r.call("GET", "/subjects/Orders-value/versions/1")[2]["schema"], V1)
    body = r.call("GET", "/schemas/ids/%d" % first_id)[2]
    check("GET /schemas/ids/{id}", (body["schema"], body["schemaType"]), (V1, "PROTOBUF"))

    # References: an import under its own subject, named by file.
    money_id = r.call("POST", "/subjects/shop%2Fmoney.proto/versions",
                      {"schema": MONEY, "schemaType": "PROTOBUF"})[2]["id"]
    status, _, body = r.call("POST", "/subjects/Priced-value/versions",
                             {"schema": PRICED, "schemaType": "PROTOBUF",
                              "references": [{"name": "shop/money.proto", "subject": "shop/money.proto",
                                              "version": 1}]})
    check("a schema with a reference registers", status, 200)
    check("its answer names the reference",
          r.call("GET", "/schemas/ids/%d" % body["id"])[2]["references"],
          [{"name": "shop/money.proto", "subject": "shop/money.proto", "version": 1}])
    check("an import's subject holds a slash", "shop/money.proto" in r.call("GET", "/subjects")[2], True)
    check("the import kept its own id", money_id not in (first_id, second_id), True)

    # Compatibility: the default level, a test, a refusal, a level per subject.
    check("GET /config", r.call("GET", "/config")[2], {"compatibilityLevel": "BACKWARD"})
    check("POST /compatibility/.../latest, compatible",
          r.call("POST", "/compatibility/subjects/Orders-value/versions/latest",
                 {"schema": V2, "schemaType": "PROTOBUF"})[2], {"is_compatible": True})
    check("POST /compatibility/.../latest, incompatible",
          r.call("POST", "/compatibility/subjects/Orders-value/versions/latest",
                 {"schema": CLASH, "schemaType": "PROTOBUF"})[2]["is_compatible"], False)
    check_error("an incompatible schema", r.call("POST", "/subjects/Orders-value/versions",
                                                 {"schema": CLASH, "schemaType": "PROTOBUF"}), 409, 409)
    check("PUT /config/{s}", r.call("PUT", "/config/Orders-value", {"compatibility": "NONE"})[2],
          {"compatibility": "NONE"})
    check("GET /config/{s}", r.call("GET", "/config/Orders-value")[2], {"compatibilityLevel": "NONE"})
    check("under NONE it registers",
          r.call("POST", "/subjects/Orders-value/versions", {"schema": CLASH, "schemaType": "PROTOBUF"})[0],
          200)

    # Errors, each with its documented code.
    check_error("unknown subject", r.call("GET", "/subjects/Nobody-value/versions"), 404, 40401)
    check_error("unknown version", r.call("GET", "/subjects/Orders-value/versions/99"), 404, 40402)
    check_error("unknown id", r.call("GET", "/schemas/ids/99999"), 404, 40403)
    check_error("schema not under subject", r.call("POST", "/subjects/Orders-value",
                                                   {"schema": MONEY, "schemaType": "PROTOBUF"}), 404, 40403)
    check_error("invalid schema", r.call("POST", "/subjects/Bad-value/versions",
                                         {"schema": "message {", "schemaType": "PROTOBUF"}), 422, 42201)
    check_error("invalid version", r.call("GET", "/subjects/Orders-value/versions/zero"), 422, 42202)
    check_error("invalid level", r.call("PUT", "/config", {"compatibility": "SIDEWAYS"}), 422, 42203)
    check_error("no level of its own", r.call("GET", "/config/Priced-value"), 404, 40408)

    # The same schema in other spacing and with comments is the one registered.
    respaced = "// an order\n" + V1.replace("\n", "\n\n")
    check("a schema in other spacing keeps its id",
          r.call("POST", "/subjects/Orders-value/versions", {"schema": respaced, "schemaType": "PROTOBUF"})[2],
          {"id": first_id})

    # Deletes: soft, then permanent; a referenced version stays.
    check_error("deleting an imported version",
                r.call("DELETE", "/subjects/shop%2Fmoney.proto/versions/1"), 422, 42206)
    check_error("a permanent delete before a soft one",
                r.call("DELETE", "/subjects/Orders-value/versions/1?permanent=true"), 404, 40407)
    check("DELETE /subjects/{s}/versions/{v}", r.call("DELETE", "/subjects/Orders-value/versions/1")[2], 1)
    check("a softly deleted version is hidden", r.call("GET", "/subjects/Orders-value/versions")[2], [2, 3])
    check("?deleted=true shows it",
          r.call("GET", "/subjects/Orders-value/versions?deleted=true")[2], [1, 2, 3])
    check("its id still answers", r.call("GET", "/schemas/ids/%d" % first_id)[0], 200)
    check_error("deleting it softly again",
                r.call("DELETE", "/subjects/Orders-value/versions/1"), 404, 40406)
    check("DELETE ...?permanent=true",
          r.call("DELETE", "/subjects/Orders-value/versions/1?permanent=true")[2], 1)
    check_error("its id is gone", r.call("GET", "/schemas/ids/%d" % first_id), 404, 40403)
    check("DELETE /subjects/{s}", r.call("DELETE", "/subjects/Orders-value")[2], [2, 3])
    check("the subject is hidden", "Orders-value" in r.call("GET", "/subjects")[2], False)
    check("?deleted=true lists it", "Orders-value" in r.call("GET", "/subjects?deleted=true")[2], True)
    check_error("deleting it softly again", r.call("DELETE", "/subjects/Orders-value"), 404, 40404)
    check("DELETE /subjects/{s}?permanent=true",
          r.call("DELETE", "/subjects/Orders-value?permanent=true")[2], [2, 3])
    check_error("a permanently deleted subject", r.call("GET", "/subjects/Orders-value/versions?deleted=true"),
                404, 40401)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
