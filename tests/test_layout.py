"""The shape the code keeps (README, "Layout"): no module over 400 lines and no function over 60
in the application, the fakes, the benchmarks and the cluster run. Tests and migrations are
exempt: a test reads best as one story, a migration is generated."""

import ast
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def sources() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard",
                             "*.py"], cwd=ROOT, capture_output=True, text=True, check=True)
    return [ROOT / name for name in listed.stdout.split()
            if not name.startswith("tests/") and "/migrations/" not in name
            and (ROOT / name).exists()]


def test_no_module_over_400_lines_and_no_function_over_60():
    files = sources()
    assert len(files) > 100  # the listing found the code
    long_modules, long_functions = [], []
    for path in files:
        text = path.read_text()
        name = path.relative_to(ROOT)
        if text.count("\n") > MAX_MODULE_LINES:
            long_modules.append(f"{name}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long_functions.append(f"{name}:{node.lineno} {node.name}: {length} lines")
    assert not long_modules, long_modules
    assert not long_functions, long_functions
