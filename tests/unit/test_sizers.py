"""Sizers for objects whose bytes live outside Python, with real Pillow images and real malloc'ed memory."""

from __future__ import annotations

import ctypes
import gc
import io
import subprocess
import sys
import types
import weakref

import pytest

import st_memwatch
from st_memwatch.core import probes, sizers
from st_memwatch.core.census import split_of, take_census
from st_memwatch.core.sizing import deep_size

Image = pytest.importorskip("PIL.Image")

MiB = 2**20


def _type_bytes(name: str) -> tuple[int, int]:
    stat = take_census().by_type().get(name)
    return (stat.count, stat.bytes) if stat is not None else (0, 0)


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    libc.free.restype = None
    return libc


# ---------------------------------------------------------------- Pillow
@pytest.mark.parametrize(("mode", "per_pixel"), [("RGB", 4), ("RGBA", 4), ("L", 1), ("I;16", 2), ("F", 4), ("LA", 4)])
def test_a_pillow_image_is_sized_by_its_pixels(mode, per_pixel):
    im = Image.new(mode, (640, 480))
    assert sizers.external_bytes(im) == 640 * 480 * per_pixel + 8 * 480
    assert sys.getsizeof(im) < 1024  # what Python alone would say


@pytest.mark.skipif(probes.heap_in_use() is None, reason="psutil cannot read this C allocator")
def test_the_pillow_figure_is_what_the_c_allocator_hands_out():
    before = probes.heap_in_use()
    images = [Image.new("RGB", (1024, 1024), (9, 9, 9)) for _ in range(4)]
    grown = probes.heap_in_use() - before
    figure = sum(map(sizers.external_bytes, images))
    assert abs(grown - figure) < 0.05 * figure, (grown, figure)


def test_an_image_not_loaded_yet_has_no_pixels_and_sizing_does_not_load_it():
    buf = io.BytesIO()
    Image.new("RGB", (800, 600), (1, 2, 3)).save(buf, "PNG")
    buf.seek(0)
    lazy = Image.open(buf)
    assert sizers.external_bytes(lazy) == 0
    assert sizers.external_bytes(lazy) == 0  # still not loaded by the first question
    lazy.load()
    assert sizers.external_bytes(lazy) == 800 * 600 * 4 + 8 * 600


def test_the_census_counts_the_pixels_of_images_kept_in_a_dict():
    name = "PIL.Image.Image"
    count0, bytes0 = _type_bytes(name)
    gallery = {"gallery": [Image.new("RGB", (1024, 1024)) for _ in range(3)]}
    result = take_census()
    stat = result.by_type()[name]
    assert stat.count - count0 == 3
    assert 3 * 4 * MiB <= stat.bytes - bytes0 < 3 * 4 * MiB + 64 * 1024
    split = split_of(result)
    assert split is not None and split.in_malloc >= 3 * 4 * MiB
    del gallery


def test_deep_size_counts_an_image_once_however_often_it_is_held():
    im = Image.new("RGB", (1024, 1024))
    other = Image.new("RGB", (1024, 1024))
    once, _ = deep_size({"a": im, "b": im}, 1.0)
    twice, _ = deep_size({"a": im, "b": other}, 1.0)
    assert 4 * MiB <= once < 4 * MiB + 64 * 1024
    assert twice - once >= 4 * MiB


# ---------------------------------------------------------------- libraries not imported
def test_no_library_is_imported_to_size_it():
    code = (
        "import sys\n"
        "libs = ('PIL', 'torch', 'pyarrow', 'pandas')\n"
        "from st_memwatch.core import sizers\n"
        "from st_memwatch.core.census import take_census\n"
        "from st_memwatch.core.sizing import deep_size\n"
        "take_census(); deep_size({'x': [1, 2]}, 0.5)\n"
        "class Tensor: pass\n"
        "assert sizers.builtins() == {} and sizers.lookup(Tensor) is None\n"
        "loaded = [m for m in libs if m in sys.modules]\n"
        "assert not loaded, loaded\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stdout + out.stderr


def test_a_library_sizer_applies_only_once_its_module_is_loaded(monkeypatch):
    """A stand-in ``torch`` module: the registry looks the class up in sys.modules, by name."""

    class Storage:
        def nbytes(self) -> int:
            return 3 * MiB

        def data_ptr(self) -> int:
            return 0xABC000

    class Tensor:
        device = types.SimpleNamespace(type="cpu")

        def untyped_storage(self) -> Storage:
            return Storage()

    if "torch" not in sys.modules:
        assert sizers.lookup(Tensor) is None
    fake = types.ModuleType("torch")
    fake.Tensor = Tensor  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torch", fake)
    assert sizers.external_bytes(Tensor()) == 3 * MiB
    # Two tensors over one storage (a view) count it once.
    size, _ = deep_size([Tensor(), Tensor()], 1.0)
    assert 3 * MiB <= size < 3 * MiB + 4096


def test_real_torch_tensors_are_sized_by_their_storage():
    torch = pytest.importorskip("torch")
    t = torch.zeros(1024, 1024, dtype=torch.float32)
    assert sizers.external_bytes(t) == 4 * MiB
    size, _ = deep_size([t, t[:10]], 1.0)
    assert 4 * MiB <= size < 4 * MiB + 4096


# ---------------------------------------------------------------- pandas and pyarrow: no double counting
def test_a_dataframe_is_counted_once_by_the_walks():
    np = pytest.importorskip("numpy")
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"x": np.arange(MiB, dtype=np.int64), "y": np.ones(MiB)})
    assert sizers.external_bytes(df) >= 16 * MiB  # what one frame holds, for a single-object question
    size, _ = deep_size(df, 2.0)
    assert 16 * MiB <= size < 17 * MiB, size / MiB


def test_an_arrow_table_counts_a_shared_column_once():
    np = pytest.importorskip("numpy")
    pa = pytest.importorskip("pyarrow")
    col = pa.array(np.arange(MiB, dtype=np.int64))
    table = pa.table({"a": col, "b": col})
    assert sys.getsizeof(table) >= 16 * MiB  # pyarrow's own figure counts the shared buffer twice
    size, _ = deep_size(table, 1.0)
    assert 8 * MiB <= size < 8 * MiB + 64 * 1024


# ---------------------------------------------------------------- register_sizer
class _Native:
    """Memory a C library holds for this object; Python sees an address."""

    libc = _libc()

    def __init__(self, size: int) -> None:
        self.size = size
        self.address = self.libc.malloc(size)
        ctypes.memset(self.address, 1, size)

    def __del__(self) -> None:
        self.libc.free(self.address)


def test_register_sizer_is_public_and_the_census_counts_the_native_bytes():
    class Handle(_Native):
        pass

    name = f"{Handle.__module__}.{Handle.__qualname__}"
    keep = [Handle(2 * MiB) for _ in range(3)]
    _, before = _type_bytes(name)  # learnt without a sizer first
    assert before < 4096
    st_memwatch.register_sizer(Handle, lambda h: h.size)
    count, after = _type_bytes(name)
    assert count == 3 and 6 * MiB <= after < 6 * MiB + 4096
    del keep


def test_subclasses_are_sized_alike_and_registering_again_replaces():
    class Base(_Native):
        pass

    class Child(Base):
        pass

    st_memwatch.register_sizer(Base, lambda h: h.size)
    assert sizers.external_bytes(Child(MiB)) == MiB
    st_memwatch.register_sizer(Base, lambda h: 2 * h.size)
    assert sizers.external_bytes(Child(MiB)) == 2 * MiB


@pytest.mark.parametrize("figure", [ValueError("broken handle"), -5, 2.5, "12", None, True])
def test_a_sizer_that_fails_or_returns_a_bad_figure_counts_zero(figure):
    # A name of its own per case: the census adds up types by name.
    Odd = type(f"Odd{type(figure).__name__}{abs(hash(repr(figure)))}", (), {})

    def fn(_obj):
        if isinstance(figure, Exception):
            raise type(figure)(*figure.args)
        return figure

    st_memwatch.register_sizer(Odd, fn)
    keep = [Odd() for _ in range(3)]
    assert sizers.external_bytes(keep[0]) == 0
    count, nbytes = _type_bytes(f"{Odd.__module__}.{Odd.__qualname__}")
    assert count == 3 and nbytes < 1024


def test_the_registry_does_not_keep_a_class_alive():
    class Temporary:
        pass

    st_memwatch.register_sizer(Temporary, lambda _o: 1)
    ref = weakref.ref(Temporary)
    del Temporary
    gc.collect()
    assert ref() is None


@pytest.mark.parametrize(
    ("bad", "named"),
    [("PIL.Image.Image", "'PIL.Image.Image'"), (42, "42"), (object, "<class 'object'>"), (None, "None")],
)
def test_register_sizer_rejects_what_is_not_a_class(bad, named):
    with pytest.raises(TypeError, match=r"invalid type " + __import__("re").escape(named) + r": expected a class"):
        st_memwatch.register_sizer(bad, len)


@pytest.mark.parametrize("bad", [42, "size", None])
def test_register_sizer_rejects_a_sizer_that_is_not_callable(bad):
    class Thing:
        pass

    with pytest.raises(
        TypeError, match=rf"invalid sizer {bad!r} for .*Thing: expected a callable .*returning its bytes"
    ):
        st_memwatch.register_sizer(Thing, bad)
