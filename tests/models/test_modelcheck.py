"""The local model runtime check (``tailor model check``) and the portable llama.cpp build.

The crash tests run real child processes that die by the signal a bad build dies by
(SIGSEGV, SIGILL) or hang, passed to ``run_check`` as its ``program``: the classification is
tested on real signals, and the test process surviving them is part of what is tested.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tailor.cli.app import app
from tailor.config import PROJECT_ROOT, Settings, get_settings, reset_settings
from tailor.models import modelcheck
from tailor.web.session import TOKEN_KEY
from tests.fixtures.db import PASSWORD

FLAGS_SCRIPT = PROJECT_ROOT / "scripts" / "llama_build_flags"

# The flag set scripts/setup builds with on this project's machines (AVX2 class, AMX Xeons
# included). The flags key the cached wheel folder, so a change here means a rebuild.
AVX2_FLAGS = (
    "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON "
    "-DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
)
SAPPHIRE_RAPIDS_FLAGS = (
    "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ss ht "
    "syscall nx pdpe1gb rdtscp lm constant_tsc pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe "
    "popcnt aes xsave avx f16c rdrand hypervisor lahf_lm abm bmi1 hle avx2 smep bmi2 erms invpcid rtm avx512f "
    "avx512dq rdseed adx smap avx512ifma clflushopt clwb avx512cd sha_ni avx512bw avx512vl xsaveopt avx_vnni "
    "avx512_bf16 avx512vbmi umip avx512_vbmi2 gfni vaes vpclmulqdq avx512_vnni avx512_bitalg avx512_vpopcntdq "
    "serialize tsxldtrk amx_bf16 avx512_fp16 amx_tile amx_int8"
)
NO_AMX_FLAGS = "fpu sse sse2 ssse3 sse4_1 sse4_2 avx f16c fma avx2 bmi2"
llama_cpp_missing = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python is not installed"
)


def cpuinfo(tmp_path: Path, flags: str, *, name: str = "cpuinfo", key: str = "flags") -> Path:
    path = tmp_path / name
    path.write_text(
        f"processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Test CPU @ 2.0GHz\n{key}\t\t: {flags}\n\n"
        f"processor\t: 1\nmodel name\t: Test CPU @ 2.0GHz\n{key}\t\t: {flags}\n"
    )
    return path


def fake_child(tmp_path: Path, body: str) -> list[str]:
    """A program standing in for ``python -m tailor.models.modelcheck``: it gets the same arguments."""
    script = tmp_path / "child.py"
    script.write_text("import json, os, signal, sys, time\n" + body)
    return [sys.executable, str(script)]


def build_line(system_info: str) -> str:
    record = {"stage": "build", "llama_cpp_version": "0.3.36", "system_info": system_info}
    return f"print({json.dumps(json.dumps(record))}, flush=True)\n"


# --------------------------------------------------------------------------- the build has no AMX path
def _dynamic_symbols(lib: Path) -> str:
    """The library's dynamic symbols (nm -D), or its raw bytes as text when nm is missing."""
    nm = shutil.which("nm")
    if nm:
        proc = subprocess.run([nm, "-D", str(lib)], capture_output=True, text=True, check=False)
        if proc.returncode == 0:
            return proc.stdout
    return lib.read_bytes().decode("latin-1")


@llama_cpp_missing
def test_the_built_llama_cpp_has_no_amx_path_compiled_in() -> None:
    """A wheel built natively on an AMX Xeon fails here on any machine: the AMX path is a
    compile-time property of the library (llama.cpp #20824), whatever CPU runs this test."""
    import llama_cpp

    info = llama_cpp.llama_print_system_info().decode(errors="replace")
    assert "AVX" in info, info  # the report is real, not empty
    assert "AMX" not in info, f"llama.cpp was built with its AMX path (rebuild with scripts/setup): {info}"
    assert modelcheck.build_has_amx(info) is False

    # The AMX kernels live in libggml-cpu (in libggml in older, single-library builds).
    libs = [p for p in sorted((Path(llama_cpp.__file__).parent / "lib").glob("libggml*.so*")) if not p.is_symlink()]
    for lib in libs:
        symbols = _dynamic_symbols(lib)
        assert "ggml_" in symbols, f"could not read the symbols of {lib}"  # the scan is not vacuous
        assert "ggml_backend_amx" not in symbols, f"{lib} has ggml's AMX backend compiled in"


# --------------------------------------------------------------------------- the real model
@pytest.mark.slow
@pytest.mark.xdist_group("local_model")
def test_run_check_on_the_real_model_passes_and_is_kept(local_model_available: Path) -> None:
    settings = get_settings()
    check = modelcheck.run_check(settings, which="0.5b")

    assert check.ok, check.cause
    assert check.failure is None and check.cause is None
    assert check.model == "qwen2.5-coder-0.5b"
    assert check.tokens_per_s is not None and check.tokens_per_s > 0
    assert check.grammar_tokens_per_s is not None and check.grammar_tokens_per_s > 0
    assert check.completion_tokens and check.completion_tokens > 1
    assert check.load_seconds is not None and check.seconds is not None
    assert check.llama_cpp_version and check.system_info and "AVX" in check.system_info
    assert check.build_has_amx is False
    assert set(check.cpu_flags) == set(modelcheck.CPU_FLAGS)
    assert check.headline.startswith("model check passed: qwen2.5-coder-0.5b")
    assert modelcheck.last_check(settings) == check


@pytest.mark.slow
@pytest.mark.xdist_group("local_model")
def test_cli_model_check_json_reports_the_build_and_speed(local_model_available: Path) -> None:
    result = CliRunner().invoke(app, ["model", "check", "--json", "--which", "0.5b"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] is True
    assert report["tokens_per_s"] > 0
    assert "AMX" not in report["system_info"]
    assert report["cpu_model"] is None or isinstance(report["cpu_model"], str)


# --------------------------------------------------------------------------- crashes, hangs, missing parts
def test_a_segfaulting_build_on_an_amx_cpu_is_named_and_the_caller_survives(tmp_path: Path) -> None:
    # The child dies before it reports its build, as the real crash can: the CPU's AMX names it.
    child = fake_child(tmp_path, "os.kill(os.getpid(), signal.SIGSEGV)\n")
    check = modelcheck.run_check(
        get_settings(), program=child, cpuinfo=cpuinfo(tmp_path, SAPPHIRE_RAPIDS_FLAGS), timeout_s=60
    )
    assert not check.ok
    assert check.failure == "segfault"
    assert check.returncode == -11
    assert check.cause == modelcheck.AMX_CRASH
    assert "SIGSEGV" in check.cause and "llama.cpp #20824" in check.cause and "scripts/setup" in check.cause
    assert "\n" not in check.cause
    assert check.cpu_model == "Test CPU @ 2.0GHz" and check.cpu_flags["amx_int8"] is True
    # Kept for the app, and still this process's to report.
    assert modelcheck.last_check(get_settings()) == check


def test_a_segfault_in_an_amx_build_is_blamed_on_amx_on_any_cpu(tmp_path: Path) -> None:
    child = fake_child(
        tmp_path, build_line("CPU : AVX2 = 1 | AVX512 = 1 | AMX_INT8 = 1 |") + "os.kill(os.getpid(), signal.SIGSEGV)\n"
    )
    check = modelcheck.run_check(get_settings(), program=child, cpuinfo=cpuinfo(tmp_path, NO_AMX_FLAGS))
    assert check.failure == "segfault"
    assert check.build_has_amx is True
    assert check.cause == modelcheck.AMX_CRASH


def test_a_segfault_without_amx_anywhere_says_sigsegv_and_the_fix(tmp_path: Path) -> None:
    child = fake_child(tmp_path, build_line("CPU : AVX2 = 1 | FMA = 1 |") + "os.kill(os.getpid(), signal.SIGSEGV)\n")
    check = modelcheck.run_check(get_settings(), program=child, cpuinfo=cpuinfo(tmp_path, SAPPHIRE_RAPIDS_FLAGS))
    assert check.failure == "segfault"
    assert check.build_has_amx is False  # known from the build line: not blamed on AMX
    assert check.cause is not None
    assert "SIGSEGV" in check.cause and "scripts/setup" in check.cause and "AMX" not in check.cause


def test_sigill_names_the_instructions_the_cpu_lacks(tmp_path: Path) -> None:
    child = fake_child(
        tmp_path,
        build_line("CPU : AVX = 1 | AVX2 = 1 | FMA = 1 | AVX512 = 1 |") + "os.kill(os.getpid(), signal.SIGILL)\n",
    )
    check = modelcheck.run_check(get_settings(), program=child, cpuinfo=cpuinfo(tmp_path, "fpu sse sse2 avx"))
    assert check.failure == "illegal_instruction"
    assert check.returncode == -4
    assert check.cause is not None
    assert "SIGILL" in check.cause and "instructions this CPU lacks" in check.cause
    assert "AVX2" in check.cause and "AVX512" in check.cause and "FMA" in check.cause
    assert "scripts/setup" in check.cause


def test_a_hanging_model_is_killed_at_the_timeout(tmp_path: Path) -> None:
    child = fake_child(
        tmp_path,
        build_line("CPU : AVX2 = 1 |")
        + 'print(json.dumps({"stage": "loaded", "load_seconds": 0.1}), flush=True)\ntime.sleep(120)\n',
    )
    check = modelcheck.run_check(get_settings(), program=child, timeout_s=2)
    assert check.failure == "timeout"
    assert check.returncode is None
    assert check.cause is not None and "hung" in check.cause and "generating" in check.cause
    assert check.system_info == "CPU : AVX2 = 1 |"  # what the child said before it hung is kept
    assert check.load_seconds == 0.1


def test_junk_on_stdout_and_a_python_error_give_one_line(tmp_path: Path) -> None:
    child = fake_child(
        tmp_path, "print('llama.cpp says hello')\nprint('{not json')\nraise RuntimeError('boom\\nline two')\n"
    )
    check = modelcheck.run_check(get_settings(), program=child)
    assert check.failure == "error"
    assert check.cause is not None and check.cause.startswith("the model check exited with status 1: ")
    assert "\n" not in check.cause


def test_an_amx_build_that_survives_the_tiny_run_still_fails_on_an_amx_cpu(tmp_path: Path) -> None:
    done = {"stage": "done", "completion_tokens": 16, "seconds": 1.0, "tokens_per_s": 15.0}
    body = build_line("CPU : AVX2 = 1 | AMX_INT8 = 1 |") + f"print({json.dumps(json.dumps(done))}, flush=True)\n"
    on_amx = modelcheck.run_check(
        get_settings(), program=fake_child(tmp_path, body), cpuinfo=cpuinfo(tmp_path, SAPPHIRE_RAPIDS_FLAGS)
    )
    assert not on_amx.ok and on_amx.failure == "amx_build"
    assert on_amx.cause is not None and "#20824" in on_amx.cause
    elsewhere = modelcheck.run_check(
        get_settings(), program=fake_child(tmp_path, body), cpuinfo=cpuinfo(tmp_path, NO_AMX_FLAGS)
    )
    assert elsewhere.ok and elsewhere.tokens_per_s == 15.0
    assert elsewhere.warnings and "AMX" in elsewhere.warnings[0]


@llama_cpp_missing
def test_a_missing_model_file_says_to_fetch_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAILOR_MODEL_DIR", str(tmp_path / "no-models"))
    reset_settings()
    result = CliRunner().invoke(app, ["model", "check", "--json", "--which", "0.5b"])
    assert result.exit_code == 3, result.output
    report = json.loads(result.output)
    assert report["ok"] is False and report["failure"] == "model_missing"
    assert "tailor model fetch --which 0.5b" in report["cause"]
    assert report["system_info"]  # the build was still reported


def test_a_missing_llama_cpp_says_to_install_it(tmp_path: Path) -> None:
    # The real child, in an interpreter that cannot import llama_cpp.
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "llama_cpp.py").write_text("raise ImportError('No module named llama_cpp')\n")
    env_program = [
        sys.executable,
        "-c",
        f"import sys; sys.path.insert(0, {str(blocker)!r}); sys.argv[0] = 'check';"
        "from tailor.models.modelcheck import child_main; raise SystemExit(child_main(sys.argv[1:]))",
    ]
    check = modelcheck.run_check(get_settings(), program=env_program)
    assert check.failure == "not_installed"
    assert check.cause is not None and "scripts/setup" in check.cause


def test_cli_model_check_skips_a_hosted_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAILOR_MODEL", "openai/gpt-4o-mini")
    reset_settings()
    result = CliRunner().invoke(app, ["model", "check"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("model check skipped:")
    assert modelcheck.last_check(get_settings()) is None


def test_last_check_is_none_when_absent_or_unreadable(isolated_settings: Path) -> None:
    settings = Settings()
    assert modelcheck.last_check(settings) is None
    modelcheck.check_file(settings).write_text("{broken")
    assert modelcheck.last_check(settings) is None


def test_cpuinfo_is_read_for_model_name_and_flags(tmp_path: Path) -> None:
    info = modelcheck.read_cpuinfo(cpuinfo(tmp_path, SAPPHIRE_RAPIDS_FLAGS))
    assert info.model_name == "Test CPU @ 2.0GHz"
    assert info.relevant() == dict.fromkeys(modelcheck.CPU_FLAGS, True)
    assert info.has_amx
    assert modelcheck.read_cpuinfo(tmp_path / "absent").flags == frozenset()


# --------------------------------------------------------------------------- the app's sidebar
def test_the_sidebar_shows_the_last_check_and_admins_get_the_details(tmp_path: Path, fast_hashing: None) -> None:
    from streamlit.testing.v1 import AppTest

    from tailor.review.auth import AuthService

    settings = get_settings()
    auth = AuthService(settings)
    admin = auth.bootstrap_admin("admin", PASSWORD, "Ada Admin")
    auth.add_user(admin, "hana", "hr", PASSWORD, "Hana HR")

    def sidebar_as(username: str) -> AppTest:
        at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=90)
        at.session_state[TOKEN_KEY] = auth.authenticate(username, PASSWORD).token
        at.run()
        assert not at.exception, at.exception
        return at

    at = sidebar_as("hana")
    assert "Local model not checked yet" in " ".join(c.value for c in at.sidebar.caption)

    crashed = fake_child(tmp_path, "os.kill(os.getpid(), signal.SIGSEGV)\n")
    modelcheck.run_check(settings, program=crashed, cpuinfo=cpuinfo(tmp_path, SAPPHIRE_RAPIDS_FLAGS))
    at = sidebar_as("hana")
    line = " ".join(c.value for c in at.sidebar.caption).replace("\\", "")
    assert "The local model is not working" in line and "SIGSEGV" not in line  # the cause is for admins
    assert not at.sidebar.expander  # the details are for admins
    at = sidebar_as("admin")
    line = " ".join(c.value for c in at.sidebar.caption).replace("\\", "")
    assert "Local model check failed" in line and "SIGSEGV" in line and "scripts/setup" in line
    assert [e.label for e in at.sidebar.expander] == ["Model runtime"]
    assert at.sidebar.button(key="model_check_run")


# --------------------------------------------------------------------------- scripts/llama_build_flags
def build_flags(cpuinfo_path: Path, **env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k != "TAILOR_LLAMA_CMAKE_ARGS"}
    proc = subprocess.run(
        [str(FLAGS_SCRIPT)],
        env={**environ, "TAILOR_CPUINFO": str(cpuinfo_path), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.strip()


def assert_portable(flags: str) -> dict[str, str]:
    options = dict(item.removeprefix("-D").split("=", 1) for item in flags.split())
    assert options["GGML_NATIVE"] == "OFF"
    assert options["GGML_AVX512"] == "OFF"
    assert options["GGML_AMX_TILE"] == options["GGML_AMX_INT8"] == options["GGML_AMX_BF16"] == "OFF"
    assert "=ON" not in " ".join(f for f in flags.split() if "AMX" in f or "AVX512" in f or "NATIVE" in f)
    # With GGML_NATIVE=OFF ggml turns these on by default: each must be said.
    for option in ("GGML_AVX", "GGML_AVX2", "GGML_FMA", "GGML_F16C", "GGML_BMI2"):
        assert option in options, f"{option} left to ggml's default in {flags}"
    return options


def test_build_flags_for_an_amx_xeon_are_the_avx2_set(tmp_path: Path) -> None:
    flags = build_flags(cpuinfo(tmp_path, SAPPHIRE_RAPIDS_FLAGS))
    assert flags == AVX2_FLAGS
    assert_portable(flags)


def test_build_flags_for_an_avx2_cpu_without_bmi2(tmp_path: Path) -> None:
    options = assert_portable(build_flags(cpuinfo(tmp_path, "fpu sse sse2 sse4_2 avx f16c fma avx2")))
    assert options["GGML_AVX2"] == options["GGML_FMA"] == options["GGML_F16C"] == "ON"
    assert options["GGML_BMI2"] == "OFF"


@pytest.mark.parametrize("f16c", [True, False])
def test_build_flags_for_an_avx_only_cpu(tmp_path: Path, f16c: bool) -> None:
    cpu = "fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt avx" + (" f16c" if f16c else "")
    options = assert_portable(build_flags(cpuinfo(tmp_path, cpu)))
    assert options["GGML_AVX"] == "ON"
    assert options["GGML_AVX2"] == options["GGML_FMA"] == options["GGML_BMI2"] == "OFF"
    assert options["GGML_F16C"] == ("ON" if f16c else "OFF")
    assert options["GGML_SSE42"] == "ON"


@pytest.mark.parametrize(
    "flags",
    ["fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt", "fpu sse sse2", "fpu sse sse2 avx2 fma f16c"],
    ids=["sse4.2", "sse2", "avx2-without-avx"],
)
def test_build_flags_for_a_baseline_cpu(tmp_path: Path, flags: str) -> None:
    options = assert_portable(build_flags(cpuinfo(tmp_path, flags)))
    assert options["GGML_AVX"] == options["GGML_AVX2"] == options["GGML_FMA"] == options["GGML_F16C"] == "OFF"
    assert options["GGML_SSE42"] == ("ON" if "sse4_2" in flags else "OFF")


def test_build_flags_without_x86_flags_or_cpuinfo_are_the_baseline(tmp_path: Path) -> None:
    arm = cpuinfo(tmp_path, "fp asimd evtstrm aes pmull sha1 sha2 crc32", key="Features")
    assert assert_portable(build_flags(arm))["GGML_AVX"] == "OFF"
    assert assert_portable(build_flags(tmp_path / "absent"))["GGML_AVX"] == "OFF"


def test_build_flags_can_be_overridden(tmp_path: Path) -> None:
    own = "-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_AVX512=ON -DGGML_AMX_INT8=OFF"
    assert build_flags(cpuinfo(tmp_path, NO_AMX_FLAGS), TAILOR_LLAMA_CMAKE_ARGS=own) == own
