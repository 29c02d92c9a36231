import pytest
import torch

from gan_tui.errors import BadInput
from gan_tui.profile import available_profiles, load_profile
from gan_tui.tricks import LabelSmoothing, SpectralNorm

SHIPPED = {"ring8", "grid25", "dcgan-fashion"}


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_shipped_profiles_load_and_validate():
    assert SHIPPED <= set(available_profiles())
    for name in SHIPPED:
        profile = load_profile(name)
        assert profile.name == name and profile.description


def test_ring8_settings_are_typed():
    p = load_profile("ring8")
    assert p.data.name == "ring8" and p.model.architecture == "mlp" and p.loss.name == "nonsat"
    assert isinstance(p.optim.d.lr, float) and p.optim.d.lr > p.optim.g.lr  # TTUR
    assert isinstance(p.tricks["spectral_norm"], SpectralNorm)


def test_train_threads_sets_torchs_cpu_threads_and_zero_leaves_them():
    from gan_tui.train.session import build_parts

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        build_parts(load_profile("ring8", ["train.device=cpu", "train.threads=2"]))
        assert torch.get_num_threads() == 2
        build_parts(load_profile("ring8", ["train.device=cpu", "train.threads=0"]))
        assert torch.get_num_threads() == 2  # 0: whatever torch (or $OMP_NUM_THREADS) had
        assert load_profile("ring8").train.threads == 1  # the toys train on one core (benchmarks/RESULTS.md)
    finally:
        torch.set_num_threads(before)


def test_overrides_change_values_with_toml_types():
    p = load_profile("ring8", ["train.steps=500", "optim.d.lr=4e-4", "train.device=cpu",
                               "tricks.label_smoothing.real=0.8"])
    assert p.train.steps == 500 and p.optim.d.lr == 4e-4 and p.train.device == "cpu"
    assert p.tricks["label_smoothing"] == LabelSmoothing(real=0.8)


def test_extends_merges_over_the_parent(tmp_path):
    child = write(tmp_path / "mine.toml", 'extends = "dcgan-fashion"\n[train]\nsteps = 7\n')
    p = load_profile(str(child))
    assert p.train.steps == 7 and p.model.architecture == "dcgan" and p.data.image_size == 32
    assert "extends" not in p.to_dict()


def test_user_profiles_are_listed(tmp_path, monkeypatch):
    folder = tmp_path / "user-profiles"
    write(folder / "tiny.toml", 'description = "mine"\nextends = "ring8"\n')
    assert "tiny" in available_profiles()
    assert load_profile("tiny").description == "mine"


@pytest.mark.parametrize("text, expected", [
    ('[train]\nstesp = 5\n', 'unknown key "train.stesp"; did you mean "train.steps"?'),
    ('[trian]\nsteps = 5\n', 'unknown key "trian"; did you mean "train"?'),
    ('[train]\nsteps = "many"\n', 'key "train.steps" must be an integer'),
    ('[train]\nsteps = 0\n', 'key "train.steps" is 0, below its minimum 1'),
    ('[optim.d]\nbetas = [0.5]\n', 'key "optim.d.betas" must be a list of 2 values'),
    ('[train]\nprecision = "fp8"\n', "key \"train.precision\" is 'fp8', which is not one of"),
    ('[model]\narchitecture = "transformer"\n', 'names unknown "transformer"; known: cyclegan, dcgan, mlp'),
    ('[loss]\nname = "hinj"\n', 'names unknown "hinj"; known: bce, hinge, lsgan, nonsat, r1, wgan, wgan-gp'),
    ('[data]\nname = "cifar"\n', 'names unknown "cifar"; known:'),
    ('[tricks.label_smothing]\nreal = 0.9\n', 'unknown trick "label_smothing"; did you mean "label_smoothing"?'),
    ('[tricks.label_smoothing]\nreal = 2.0\n', 'key "tricks.label_smoothing.real" is 2.0, above its maximum 1.0'),
    ('[train]\ndevice = "tpu"\n', 'key "train.device" is "tpu"'),
    ('[train]\nthreads = -1\n', 'key "train.threads" is -1, below its minimum 0'),
    ('train = 5\n', 'key "train" must be a table'),
    ('[train\nsteps = 5\n', "not valid TOML"),
])
def test_bad_profiles_name_file_and_key(tmp_path, text, expected):
    path = write(tmp_path / "bad.toml", text)
    with pytest.raises(BadInput) as info:
        load_profile(str(path))
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert expected in message, message
    assert "\n" not in message


def test_bad_override_names_the_option():
    with pytest.raises(BadInput, match=r'^--set train.stesp=...: unknown key "train.stesp"; did you mean "train.steps"\?'):
        load_profile("ring8", ["train.stesp=5"])
    with pytest.raises(BadInput, match=r'^--set train.steps=x: key "train.steps" must be an integer'):
        load_profile("ring8", ["train.steps=x"])
    with pytest.raises(BadInput, match="expected KEY=VALUE"):
        load_profile("ring8", ["train.steps"])
    # a table the override itself brought in: the option is to blame, not the profile file
    with pytest.raises(BadInput, match=r'^--set tricks.label_smothing.real=0.8: unknown trick "label_smothing"'):
        load_profile("ring8", ["tricks.label_smothing.real=0.8"])


def test_unknown_profile_suggests_the_closest():
    with pytest.raises(BadInput, match='profile "ring9" not found.*did you mean "ring8"'):
        load_profile("ring9")


def test_extends_cycle_is_refused(tmp_path, monkeypatch):
    folder = tmp_path / "user-profiles"
    write(folder / "a.toml", 'extends = "b"\n')
    write(folder / "b.toml", 'extends = "a"\n')
    with pytest.raises(BadInput, match="cycle"):
        load_profile("a")


def test_a_broken_parent_is_reported_with_the_profile_that_extends_it(tmp_path):
    # Found by the profile fuzzer: `extends = "../../etc/passwd"` named only the parent file.
    parent, child = tmp_path / "parent.toml", tmp_path / "child.toml"
    write(parent, "not = toml = at all\n")
    write(child, f'extends = "{parent}"\n')
    with pytest.raises(BadInput) as caught:
        load_profile(str(child))
    message = str(caught.value)
    assert message.startswith(f'{child}: key "extends" = "{parent}" does not load: {parent}: not valid TOML')
    assert "\n" not in message


def test_a_relative_extends_path_is_read_from_the_extending_files_folder(tmp_path, monkeypatch):
    folder = tmp_path / "experiments"
    write(folder / "base.toml", 'extends = "ring8"\n[train]\nsteps = 11\n')
    write(folder / "sweeps" / "child.toml", 'extends = "../base.toml"\n[train]\nseed = 3\n')
    write(folder / "sibling.toml", 'extends = "base.toml"\n')
    monkeypatch.chdir(tmp_path)  # not the profiles' folder: a path from the working directory would miss
    child = load_profile(str(folder / "sweeps" / "child.toml"))
    assert (child.train.steps, child.train.seed, child.data.name) == (11, 3, "ring8")
    assert load_profile(str(folder / "sibling.toml")).train.steps == 11
    write(folder / "lost.toml", 'extends = "missing.toml"\n')
    with pytest.raises(BadInput, match=f'{folder / "lost.toml"}: key "extends" names {folder / "missing.toml"}: no such'):
        load_profile(str(folder / "lost.toml"))


def test_a_bad_value_names_the_file_that_set_it_not_only_the_one_that_extends_it(tmp_path):
    # Found using the product: a child of a broken profile was blamed for a key it never set.
    base = write(tmp_path / "base.toml", 'extends = "dcgan-fashion"\n[tricks.ema]\ndecay = 1.5\n')
    child = write(tmp_path / "child.toml", 'extends = "base.toml"\n[train]\nsteps = 5\n')
    with pytest.raises(BadInput) as caught:
        load_profile(str(child))
    assert str(caught.value).startswith(f'{base}, extended by {child}: key "tricks.ema.decay" is 1.5, above')
    with pytest.raises(BadInput, match=f'^{base}: key "tricks.ema.decay"'):
        load_profile(str(base))
    with pytest.raises(BadInput, match='^--set tricks.ema.decay=2: key "tricks.ema.decay" is 2'):
        load_profile(str(child), ["tricks.ema.decay=2"])  # a --set is still named before any file
    # A key the child sets is the child's; a table two files fill is the loaded file's.
    fixed = write(tmp_path / "fixed.toml", 'extends = "base.toml"\n[tricks.ema]\ndecay = 0.99\n[train]\nsteps = 5\n')
    profile = load_profile(str(fixed))
    assert profile.where("tricks.ema.decay") == str(fixed) and profile.where("train") == str(fixed)
    assert profile.where("loss.name") == f"{available_profiles()['dcgan-fashion']}, extended by {fixed}"


def test_digest_tracks_settings():
    assert load_profile("ring8").digest() == load_profile("ring8").digest()
    assert load_profile("ring8").digest() != load_profile("ring8", ["train.seed=1"]).digest()
