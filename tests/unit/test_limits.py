from __future__ import annotations

import sys

import pytest

from st_memwatch.core.limits import COMMUNITY_CLOUD_LIMIT, format_bytes, parse_limit, parse_size, resolve_limit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (1024, 1024),
        ("2.7GB", 2_700_000_000),
        ("690MiB", 690 * 1024**2),
        ("512 mb", 512_000_000),
        ("1.5 GiB", int(1.5 * 1024**3)),
        ("100", 100),
        ("2g", 2_000_000_000),
    ],
)
def test_parse_size_accepts_common_forms(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("bad", ["abc", -1, 0, "12 parsecs", "", "-5MB", "0GB", True, None, [1], float("nan")])
def test_parse_size_rejects_bad_values_naming_them(bad):
    with pytest.raises(ValueError) as err:
        parse_size(bad)
    assert repr(bad) in str(err.value)
    assert "expected" in str(err.value)


@pytest.mark.parametrize("huge", [10**20, "99999999999TB", 2**63])
def test_a_size_beyond_what_the_platform_holds_is_refused_for_that_reason(huge):
    with pytest.raises(ValueError) as err:
        parse_limit(huge)
    assert "larger than this platform can hold" in str(err.value), err.value
    assert "finite" not in str(err.value) and "greater than zero" not in str(err.value)


def test_the_largest_size_the_platform_holds_is_exact():
    assert parse_size(sys.maxsize) == sys.maxsize


@pytest.mark.parametrize(("bad", "reason"), [(float("nan"), "finite"), (float("inf"), "finite"), (-3, "greater than zero")])
def test_non_finite_and_non_positive_sizes_name_their_own_reason(bad, reason):
    with pytest.raises(ValueError, match=reason):
        parse_size(bad)


def _cgroup_v2(tmp_path, value: str):
    (tmp_path / "memory.max").write_text(value + "\n")
    (tmp_path / "memory.current").write_text("12345\n")
    return tmp_path


def _cgroup_v1(tmp_path, value: str):
    d = tmp_path / "memory"
    d.mkdir()
    (d / "memory.limit_in_bytes").write_text(value + "\n")
    (d / "memory.usage_in_bytes").write_text("777\n")
    return tmp_path


def test_explicit_beats_everything(tmp_path):
    limit = resolve_limit("1GB", environ={"ST_MEMWATCH_LIMIT": "2GB"}, cgroup_root=_cgroup_v2(tmp_path, "3000000000"))
    assert (limit.bytes, limit.source) == (1_000_000_000, "argument")


def test_explicit_bad_value_raises():
    with pytest.raises(ValueError, match="'abc'"):
        resolve_limit("abc", environ={}, cwd="/")


def test_environment_beats_cgroup(tmp_path):
    limit = resolve_limit(None, environ={"ST_MEMWATCH_LIMIT": "2GB"}, cgroup_root=_cgroup_v2(tmp_path, "3000000000"))
    assert (limit.bytes, limit.source) == (2_000_000_000, "environment")


def test_bad_environment_value_is_a_note_and_falls_back(tmp_path):
    limit = resolve_limit(None, environ={"ST_MEMWATCH_LIMIT": "12 parsecs"}, cgroup_root=_cgroup_v2(tmp_path, "3000000000"))
    assert (limit.bytes, limit.source) == (3_000_000_000, "cgroup-v2")
    assert len(limit.notes) == 1 and "12 parsecs" in limit.notes[0] and "ST_MEMWATCH_LIMIT" in limit.notes[0]


def test_cgroup_v2_max_means_none_then_v1(tmp_path):
    _cgroup_v2(tmp_path, "max")
    _cgroup_v1(tmp_path, "4000000000")
    limit = resolve_limit(None, environ={}, cgroup_root=tmp_path, cwd="/")
    assert (limit.bytes, limit.source) == (4_000_000_000, "cgroup-v1")


def test_cgroup_v1_huge_value_means_none(tmp_path):
    _cgroup_v1(tmp_path, str(9223372036854771712))
    limit = resolve_limit(None, environ={}, cgroup_root=tmp_path, cwd="/", total_ram=lambda: 8 * 1024**3)
    assert (limit.bytes, limit.source) == (8 * 1024**3, "total-ram")


def test_community_cloud_detected(tmp_path):
    limit = resolve_limit(None, environ={"HOSTNAME": "streamlit"}, cgroup_root=tmp_path, cwd="/")
    assert (limit.bytes, limit.source) == (COMMUNITY_CLOUD_LIMIT, "community-cloud")
    limit = resolve_limit(None, environ={}, cgroup_root=tmp_path, cwd="/mount/src/my-app")
    assert limit.source == "community-cloud"


def test_format_bytes():
    assert format_bytes(0) == "0 B"
    assert format_bytes(1536) == "1.5 KiB"
    assert format_bytes(-3 * 1024**2) == "-3.0 MiB"
    assert format_bytes(None) == "n/a"


@pytest.mark.parametrize("typo", [1.5, "1.5", 1000, "512 kb"])
def test_a_limit_below_one_mib_is_a_typo_named_in_the_error(typo):
    from st_memwatch.core.limits import parse_limit

    with pytest.raises(ValueError, match=r"at least 1 MiB") as err:
        parse_limit(typo)
    assert repr(typo) in str(err.value)
    assert parse_limit("1.5GB") == 1_500_000_000


def test_container_usage_carries_the_cgroups_own_limit(tmp_path):
    from st_memwatch.core import probes

    limited = tmp_path / "limited"
    limited.mkdir()
    (limited / "memory.max").write_text("1073741824\n")
    (limited / "memory.current").write_text("314572800\n")
    usage = probes.container_usage(limited)
    assert usage is not None and usage.bytes == 300 * 2**20 and usage.limit == 2**30 and usage.version == "v2"
    unlimited = tmp_path / "unlimited"
    unlimited.mkdir()
    (unlimited / "memory.max").write_text("max\n")
    (unlimited / "memory.current").write_text("314572800\n")
    usage = probes.container_usage(unlimited)
    assert usage is not None and usage.limit is None
