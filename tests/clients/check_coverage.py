"""Every operation of the document has a generated function taking every declared
parameter and body: nothing was silently dropped by the generator."""
import ast
import json
import pathlib
import sys

doc = json.load(open(sys.argv[1]))
package = pathlib.Path(sys.argv[2])
problems = []
count = 0
for path, item in doc["paths"].items():
    for method, op in item.items():
        count += 1
        op_id = op["operationId"]
        files = list(package.glob(f"api/*/{op_id}.py"))
        if len(files) != 1:
            problems.append(f"{method.upper()} {path}: no generated module {op_id}.py")
            continue
        tree = ast.parse(files[0].read_text())
        fns = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
        if "sync_detailed" not in fns:
            problems.append(f"{op_id}: no sync_detailed()")
            continue
        args = {a.arg for a in fns["sync_detailed"].args.kwonlyargs + fns["sync_detailed"].args.args}
        for p in op.get("parameters", []):
            name = p["name"].replace("-", "_").lower()
            if name not in args:
                problems.append(f"{op_id}: parameter {p['name']} missing (have {sorted(args)})")
        if "requestBody" in op and "body" not in args:
            problems.append(f"{op_id}: request body missing")
        source = files[0].read_text()
        for ct in op.get("requestBody", {}).get("content", {}):
            if f'"{ct}"' not in source:
                problems.append(f"{op_id}: body media type {ct} not generated")
        for status in op["responses"]:
            if status.isdigit() and f"response.status_code == {status}" not in source:
                problems.append(f"{op_id}: response {status} not parsed")
for p in problems:
    print("coverage:", p, file=sys.stderr)
print(f"coverage: {count} operations, {len(problems)} problems")
sys.exit(1 if problems else 0)
