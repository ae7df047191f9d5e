r"""The mistake catalogue of Chapter 3, "The GRU": cases, references and named wrong answers.

For each exercise of :mod:`rnnlib.exercises.ch3` this module holds what its
:class:`~rnnlib.exercises._check.Exercise` is built from:

* the seeded cases, ``*_cases(rng) -> list of argument tuples``;
* the reference, ``*_reference``: the right answer;
* the catalogue, ``*_MISTAKES``: the slips readers make, each a wrong implementation
  with the diagnosis the check prints when the reader's output matches it. The step
  mistakes come from one GRU step with switches (``_gru_step``: gate order, gate and
  candidate activations, where the reset acts, the update convention) whose defaults
  are right, so that each mistake differs from the reference in exactly one place;
  the diagnoses shared by two exercises are named once (:data:`SWAPPED_UPDATE`,
  :data:`TORCH_ORDER`, :data:`SIGMOID_TANH`).

The catalogues are most of a chapter's checking code and grow for their own reason
(a new slip seen in a reader's answer), so they live apart from the checks;
:mod:`rnnlib.exercises.ch3` imports and re-exports every public name
(``ch3.STEP_MISTAKES``, ``ch3.run_form`` ...).

Shapes as in :mod:`rnnlib.exercises.ch3`: ``x_t`` (N, D), ``h`` (N, H), ``W_x`` (D, 3H),
``W_h`` (H, 3H), ``b`` (3H,), ``b_hn`` (H,), blocks stacked z, r, h_tilde; the update is
:math:`h_t = z_t \odot h_{t-1} + (1 - z_t) \odot \tilde h_t`.
"""

from __future__ import annotations

import numpy as np

from rnnlib.activations import sigmoid
from rnnlib.conventions import gru_as_other_form, gru_forward_chung
from rnnlib.gru import gru_forward
from ._check import Mistake

# ---------------------------------------------------------------------------
# 1. One step, reset after the matmul
# ---------------------------------------------------------------------------
STEP_SIZES = [(3, 4, 5), (1, 2, 3), (2, 5, 4), (4, 3, 3)]  # (N, D, H)


def _step_args(rng, N, D, H):
    x_t = rng.standard_normal((N, D))
    h_prev = np.tanh(rng.standard_normal((N, H)))
    W_x = rng.standard_normal((D, 3 * H)) / np.sqrt(D)
    W_h = rng.standard_normal((H, 3 * H)) / np.sqrt(H)
    b = rng.standard_normal(3 * H)
    b_hn = rng.standard_normal(H)
    return x_t, h_prev, W_x, W_h, b, b_hn


def step_cases(rng):
    """Argument tuples ``(x_t, h_prev, W_x, W_h, b, b_hn)`` for :func:`~rnnlib.exercises.ch3.check_gru_step`."""
    return [_step_args(rng, *sizes) for sizes in STEP_SIZES]


def _blocks(a, order=("z", "r", "h")):
    """Split (..., 3H) into a dict of the three blocks, read in ``order``."""
    return dict(zip(order, np.split(a, 3, axis=-1)))


def _gru_step(x_t, h_prev, W_x, W_h, b, b_hn, *, order=("z", "r", "h"), gate=sigmoid, cand=np.tanh,
              reset="after", update="seed"):
    """A GRU step with switches for the catalogued slips (the defaults are right)."""
    Wx, Wh, bb = _blocks(W_x, order), _blocks(W_h, order), _blocks(b, order)
    z = gate(x_t @ Wx["z"] + h_prev @ Wh["z"] + bb["z"])  # (N, H)
    r = gate(x_t @ Wx["r"] + h_prev @ Wh["r"] + bb["r"])  # (N, H)
    bhn = 0.0 if b_hn is None else b_hn
    a_x = x_t @ Wx["h"] + bb["h"]  # (N, H)
    if reset == "after":  # r ⊙ (h W_hh + b_hn)
        a = a_x + r * (h_prev @ Wh["h"] + bhn)
    elif reset == "before":  # (r ⊙ h) W_hh
        a = a_x + (r * h_prev) @ Wh["h"] + bhn
    elif reset == "b_hn-outside":
        a = a_x + r * (h_prev @ Wh["h"]) + bhn
    elif reset == "none":
        a = a_x + h_prev @ Wh["h"] + bhn
    else:  # pragma: no cover - internal
        raise ValueError(reset)
    h_tilde = cand(a)
    if update == "seed":
        return z * h_prev + (1.0 - z) * h_tilde
    if update == "chung":
        return (1.0 - z) * h_prev + z * h_tilde
    return h_tilde  # update == "candidate"


def gru_step_reference(x_t, h_prev, W_x, W_h, b, b_hn):
    r"""One reset-after GRU step, :math:`h_t = z \odot h_{t-1} + (1 - z) \odot \tilde h_t`, shape (N, H)."""
    return _gru_step(x_t, h_prev, W_x, W_h, b, b_hn)


def _mk(**switches):
    return lambda x, h, Wx, Wh, b, bhn: _gru_step(x, h, Wx, Wh, b, bhn, **switches)


SWAPPED_UPDATE = ("You swapped z and 1 - z: you computed h_t = (1 - z) * h_prev + z * h_tilde, the convention "
                  "of Chung et al. (2014). This book (and PyTorch) use h_t = z * h_prev + (1 - z) * h_tilde, "
                  "so that z = 1 keeps the old state. Both are valid GRUs, but with these weights only one "
                  "is right.")
TORCH_ORDER = ("You read the stacked blocks in PyTorch's order r, z, n. rnnlib (like Keras) stacks them "
               "z, r, h_tilde: z = sigmoid(... W_x[:, :H] ...), r uses W_x[:, H:2H], the candidate "
               "W_x[:, 2H:] (rnnlib.gru.split_gates does the split).")
SIGMOID_TANH = ("Sigmoid and tanh are swapped: the gates z and r are sigmoids (values in (0, 1), they are "
                "proportions), and the candidate is a tanh (values in (-1, 1), like the state).")

STEP_MISTAKES = [
    Mistake("swapped-update", _mk(update="chung"), SWAPPED_UPDATE),
    Mistake("reset-before", _mk(reset="before"),
            "You applied the reset before the matmul, (r * h_prev) @ W_hh: that is the other GRU form "
            "(Cho et al. 2014 v3, d2l). This exercise asks for the reset-after form of PyTorch and cuDNN: "
            "h_tilde = tanh(x_t @ W_xh + b_h + r * (h_prev @ W_hh + b_hn)). The two are different functions."),
    Mistake("torch-order", _mk(order=("r", "z", "h")), TORCH_ORDER),
    Mistake("sigmoid-tanh-swapped", _mk(gate=np.tanh, cand=sigmoid), SIGMOID_TANH),
    Mistake("candidate-sigmoid", _mk(cand=sigmoid),
            "The candidate uses a sigmoid; it should be a tanh, so that h_tilde (and the state, a weighted "
            "average of h_prev and h_tilde) can be negative."),
    Mistake("gates-tanh", _mk(gate=np.tanh),
            "The gates use tanh; they should be sigmoids. A gate is a proportion in (0, 1): with tanh, "
            "z can be negative and 1 - z larger than 1."),
    Mistake("missing-b_hn", lambda x, h, Wx, Wh, b, bhn: _gru_step(x, h, Wx, Wh, b, None),
            "b_hn is missing. In the reset-after form the candidate has a second bias inside the reset "
            "product: h_tilde = tanh(x_t @ W_xh + b_h + r * (h_prev @ W_hh + b_hn)). (It is torch's "
            "bias_hh for the n block, and it cannot be merged into b_h because r multiplies it.)"),
    Mistake("b_hn-outside-reset", _mk(reset="b_hn-outside"),
            "b_hn is outside the reset product. It belongs inside: r * (h_prev @ W_hh + b_hn); added "
            "outside it would simply merge with b_h."),
    Mistake("no-reset", _mk(reset="none"),
            "The reset gate r is computed but never used: the candidate's recurrent term must be "
            "multiplied by r, r * (h_prev @ W_hh + b_hn)."),
    Mistake("returns-candidate", _mk(update="candidate"),
            "You returned the candidate h_tilde. The new state mixes it with the old one: "
            "h_t = z * h_prev + (1 - z) * h_tilde."),
]


# ---------------------------------------------------------------------------
# 2. One step, reset before the matmul
# ---------------------------------------------------------------------------
def step_before_cases(rng):
    """Argument tuples ``(x_t, h_prev, W_x, W_h, b)`` (no ``b_hn``)."""
    return [_step_args(rng, *sizes)[:5] for sizes in STEP_SIZES]


def gru_step_before_reference(x_t, h_prev, W_x, W_h, b):
    r"""One reset-before GRU step: :math:`\tilde h = \tanh(x W_{xh} + (r \odot h_{t-1}) W_{hh} + b_h)`."""
    return _gru_step(x_t, h_prev, W_x, W_h, b, None, reset="before")


def _mkb(**switches):
    return lambda x, h, Wx, Wh, b: _gru_step(x, h, Wx, Wh, b, None, **dict({"reset": "before"}, **switches))


STEP_BEFORE_MISTAKES = [
    Mistake("reset-after", _mkb(reset="after"),
            "You applied the reset after the matmul, r * (h_prev @ W_hh): that is the PyTorch form. "
            "Here the reset acts on the state before it is multiplied: (r * h_prev) @ W_hh."),
    Mistake("swapped-update", _mkb(update="chung"), SWAPPED_UPDATE),
    Mistake("torch-order", _mkb(order=("r", "z", "h")), TORCH_ORDER),
    Mistake("sigmoid-tanh-swapped", _mkb(gate=np.tanh, cand=sigmoid), SIGMOID_TANH),
    Mistake("no-reset", _mkb(reset="none"),
            "The reset gate r is computed but never used: multiply the state by it before the matmul, "
            "(r * h_prev) @ W_hh."),
    Mistake("returns-candidate", _mkb(update="candidate"),
            "You returned the candidate h_tilde. The new state mixes it with the old one: "
            "h_t = z * h_prev + (1 - z) * h_tilde."),
]


# ---------------------------------------------------------------------------
# 3. The update gate's backward
# ---------------------------------------------------------------------------
def update_backward_cases(rng):
    """Tuples ``(dh_next, h_prev, z, h_tilde)``, each (N, H), z in (0, 1), h's in (-1, 1)."""
    cases = []
    for N, H in [(3, 4), (1, 3), (2, 5)]:
        cases.append((rng.standard_normal((N, H)), np.tanh(rng.standard_normal((N, H))),
                      sigmoid(rng.standard_normal((N, H))), np.tanh(rng.standard_normal((N, H)))))
    return cases


def update_gate_backward_reference(dh_next, h_prev, z, h_tilde):
    r""":math:`\mathrm{d}z = \mathrm{d}h \odot (h_{t-1} - \tilde h)`, :math:`\mathrm{d}a_z = \mathrm{d}z \odot z (1 - z)`."""
    dz = dh_next * (h_prev - h_tilde)
    return dz, dz * z * (1.0 - z)


def _upd(dz_of, dsig=lambda z: z * (1.0 - z)):
    def f(dh, hp, z, ht):
        dz = dz_of(dh, hp, z, ht)
        return dz, dz * dsig(z)
    return f


UPDATE_MISTAKES = [
    Mistake("sign-flipped", _upd(lambda dh, hp, z, ht: dh * (ht - hp)),
            "dz has the wrong sign: with h_t = z * h_prev + (1 - z) * h_tilde, dh_t/dz = h_prev - h_tilde "
            "(you have h_tilde - h_prev, which belongs to Chung et al.'s convention)."),
    Mistake("no-sigmoid-derivative", _upd(lambda dh, hp, z, ht: dh * (hp - ht), lambda z: 1.0),
            "da_z is missing the sigmoid's derivative: z = sigmoid(a_z), so da_z = dz * z * (1 - z)."),
    Mistake("tanh-derivative", _upd(lambda dh, hp, z, ht: dh * (hp - ht), lambda z: 1.0 - z**2),
            "1 - z**2 is the derivative of a tanh; z is a sigmoid, whose derivative is z * (1 - z)."),
    Mistake("forgot-dh", _upd(lambda dh, hp, z, ht: hp - ht),
            "dz must be multiplied by the gradient arriving at h_t: dz = dh_next * (h_prev - h_tilde) "
            "(the chain rule)."),
    Mistake("only-h_prev", _upd(lambda dh, hp, z, ht: dh * hp),
            "z appears twice in h_t = z * h_prev + (1 - z) * h_tilde: differentiate both terms, "
            "dz = dh_next * (h_prev - h_tilde)."),
]


# ---------------------------------------------------------------------------
# 4. Keras weights to a PyTorch state dict
# ---------------------------------------------------------------------------
KERAS_ORDER = ("z", "r", "h")
TORCH_ORDER_GRU = ("r", "z", "h")  # torch's n is the candidate block


def keras_cases(rng):
    """Tuples ``(kernel, recurrent_kernel, bias)``: Keras GRU reset_after=True, bias (2, 3H)."""
    cases = []
    for D, H in [(3, 4), (2, 2), (5, 3)]:
        cases.append((rng.standard_normal((D, 3 * H)), rng.standard_normal((H, 3 * H)),
                      rng.standard_normal((2, 3 * H))))
    return cases


def _restack(a, src, dst):
    blocks = dict(zip(src, np.split(a, 3, axis=-1)))
    return np.concatenate([blocks[g] for g in dst], axis=-1)


def _to_torch(kernel, recurrent_kernel, bias, *, order=TORCH_ORDER_GRU, bias_order=TORCH_ORDER_GRU,
              transpose=True, bias_rows=(0, 1), sum_biases=None):
    w_ih = _restack(kernel, KERAS_ORDER, order)  # (D, 3H)
    w_hh = _restack(recurrent_kernel, KERAS_ORDER, order)  # (H, 3H)
    b_ih = _restack(bias[bias_rows[0]], KERAS_ORDER, bias_order)
    b_hh = _restack(bias[bias_rows[1]], KERAS_ORDER, bias_order)
    if sum_biases is not None:  # move the recurrent bias of these blocks into bias_ih
        cols = np.concatenate([np.arange(k * w_hh.shape[0], (k + 1) * w_hh.shape[0]) for k in sum_biases])
        b_ih, b_hh = b_ih.copy(), b_hh.copy()
        b_ih[cols] += b_hh[cols]
        b_hh[cols] = 0.0
    if transpose:
        w_ih, w_hh = w_ih.T.copy(), w_hh.T.copy()  # torch multiplies x @ W.T: (3H, D), (3H, H)
    return {"weight_ih_l0": w_ih, "weight_hh_l0": w_hh, "bias_ih_l0": b_ih, "bias_hh_l0": b_hh}


def keras_to_torch_reference(kernel, recurrent_kernel, bias):
    """Keras GRU (z, r, h; ``x @ kernel``; bias (2, 3H)) -> torch.nn.GRU state dict (r, z, n; ``x @ W.T``)."""
    return _to_torch(kernel, recurrent_kernel, bias)


KERAS_MISTAKES = [
    Mistake("order-unchanged", lambda k, rk, b: _to_torch(k, rk, b, order=KERAS_ORDER, bias_order=KERAS_ORDER),
            "The gate blocks are still in Keras's order z, r, h. PyTorch stacks r, z, n: swap the first "
            "two blocks (the candidate stays last) in the weights and in both biases."),
    Mistake("bias-order-unchanged", lambda k, rk, b: _to_torch(k, rk, b, bias_order=KERAS_ORDER),
            "The weights are reordered to r, z, n but the biases are not: reorder both bias vectors too."),
    Mistake("not-transposed", lambda k, rk, b: _to_torch(k, rk, b, transpose=False),
            "PyTorch multiplies x @ W.T, so weight_ih_l0 has shape (3H, D) and weight_hh_l0 (3H, H): "
            "transpose the (reordered) Keras kernels."),
    Mistake("biases-swapped", lambda k, rk, b: _to_torch(k, rk, b, bias_rows=(1, 0)),
            "The two biases are swapped: Keras's bias[0] is the input bias (bias_ih_l0) and bias[1] the "
            "recurrent one (bias_hh_l0), whose candidate block sits inside r * (...)."),
    Mistake("biases-summed", lambda k, rk, b: _to_torch(k, rk, b, sum_biases=(0, 1, 2)),
            "You summed the two biases into bias_ih_l0. That is harmless for r and z, but the candidate "
            "block of the recurrent bias sits inside the reset product, r * (h W_hn + b_hn): keep the "
            "two rows apart."),
    Mistake("gate-biases-merged", lambda k, rk, b: _to_torch(k, rk, b, sum_biases=(0, 1)),
            "Your state dict computes the same GRU: for r and z only the sum of the two biases matters, "
            "and you kept the candidate's recurrent bias b_hn apart. But the exercise asks for a copy of "
            "the Keras numbers: put bias[0] (reordered) in bias_ih_l0 and bias[1] (reordered) in "
            "bias_hh_l0, without merging."),
]


# ---------------------------------------------------------------------------
# 5. Counting parameters
# ---------------------------------------------------------------------------
def count_cases(rng):
    """Tuples ``(D, H)`` with D != H, so that each slip gives another count."""
    cases = [(3, 5), (10, 16), (1, 2)]
    for _ in range(2):
        D, H = (int(v) for v in rng.choice(np.arange(2, 80), size=2, replace=False))
        cases.append((D, H))
    return cases


def count_params_reference(D, H):
    """(rnnlib GRU, reset after: 3(DH + H^2 + H) + H,  rnnlib LSTM: 4(DH + H^2 + H))."""
    return 3 * (D * H + H * H + H) + H, 4 * (D * H + H * H + H)


COUNT_MISTAKES = [
    Mistake("missing-b_hn", lambda D, H: (3 * (D * H + H * H + H), 4 * (D * H + H * H + H)),
            "The GRU count misses b_hn, the reset-after form's extra candidate bias of H entries."),
    Mistake("torch-biases", lambda D, H: (3 * (D * H + H * H + 2 * H), 4 * (D * H + H * H + 2 * H)),
            "You counted two full bias vectors per layer, as PyTorch stores them (bias_ih and bias_hh). "
            "rnnlib keeps one b (GH,) plus, for the GRU, b_hn (H,): outside the candidate the two torch "
            "biases are only ever added."),
    Mistake("swapped", lambda D, H: (4 * (D * H + H * H + H), 3 * (D * H + H * H + H) + H),
            "The two counts are swapped: return (GRU, LSTM). The GRU has 3 blocks (z, r, h_tilde), "
            "the LSTM 4 (f, i, o, c_tilde)."),
    Mistake("no-biases", lambda D, H: (3 * (D * H + H * H), 4 * (D * H + H * H)),
            "You counted the weights but not the biases: b (3H or 4H) and the GRU's b_hn (H)."),
    Mistake("W_h-as-vector", lambda D, H: (3 * (D * H + H + H) + H, 4 * (D * H + H + H)),
            "W_h is (H, GH): each block of it is an (H, H) matrix, so it has G * H * H entries."),
    Mistake("one-block", lambda D, H: (D * H + H * H + H + H, D * H + H * H + H),
            "Each gate (and the candidate) has its own W_x, W_h and b block: multiply by 3 for the GRU "
            "and by 4 for the LSTM."),
]


# ---------------------------------------------------------------------------
# 6. Which form and which update convention produced these states?
# ---------------------------------------------------------------------------
FORM_LABELS = (("after", "seed"), ("before", "seed"), ("after", "chung"), ("before", "chung"))


def run_form(x, params, form, update):
    """States (N, T, H) of the GRU ``params`` (with ``b_hn``) in one form and update convention.

    ``form="before"`` folds ``b_hn`` into the candidate bias
    (:func:`rnnlib.conventions.gru_as_other_form`); ``update="chung"`` uses
    :math:`h_t = (1 - z) h_{t-1} + z \\tilde h` (:func:`rnnlib.conventions.gru_forward_chung`).
    """
    p = params if form == "after" else gru_as_other_form(params)
    if update == "chung":
        return gru_forward_chung(x, p)
    h0 = np.zeros((x.shape[0], p["W_h"].shape[0]))
    return gru_forward(x, h0, p["W_x"], p["W_h"], p["b"], p.get("b_hn"), reset_after=form == "after")[0]


def which_form_cases(rng):
    """Tuples ``(x, params, hs)``: two sequences for each of the four (form, update) labels, shuffled."""
    cases = []
    for k in range(8):
        form, update = FORM_LABELS[k % 4]
        N, T, D, H = 2, 6, 3, 4
        params = {"W_x": rng.standard_normal((D, 3 * H)) / np.sqrt(D),
                  "W_h": rng.standard_normal((H, 3 * H)) / np.sqrt(H),
                  "b": rng.standard_normal(3 * H), "b_hn": rng.standard_normal(H)}
        x = rng.standard_normal((N, T, D))
        cases.append((x, params, run_form(x, params, form, update)))
    return [cases[i] for i in rng.permutation(len(cases))]


def which_form_reference(x, params, hs):
    """The (form, update) whose states :func:`run_form` reproduces (closest in max abs difference)."""
    errors = {lab: np.max(np.abs(run_form(x, params, *lab) - hs)) for lab in FORM_LABELS}
    return min(errors, key=errors.get)


def _relabel(fn):
    def f(x, params, hs):
        return fn(*which_form_reference(x, params, hs))
    return f


_OTHER_FORM = {"after": "before", "before": "after"}
_OTHER_UPDATE = {"seed": "chung", "chung": "seed"}

WHICH_MISTAKES = [
    Mistake("form-swapped", _relabel(lambda f, u: (_OTHER_FORM[f], u)),
            "You have the update conventions right but the two forms the wrong way round. Run both: "
            "reset after, tanh(x W_xh + b_h + r * (h W_hh + b_hn)); reset before, "
            "tanh(x W_xh + (r * h) W_hh + b_h + b_hn)."),
    Mistake("update-swapped", _relabel(lambda f, u: (f, _OTHER_UPDATE[u])),
            "You have the forms right but the update conventions the wrong way round: 'seed' is "
            "h = z * h_prev + (1 - z) * h_tilde (z = 1 keeps the state), 'chung' is "
            "h = (1 - z) * h_prev + z * h_tilde."),
    Mistake("both-swapped", _relabel(lambda f, u: (_OTHER_FORM[f], _OTHER_UPDATE[u])),
            "Both labels are the wrong way round: swap 'after'/'before' and 'seed'/'chung'."),
    Mistake("always-library-default", lambda x, params, hs: ("after", "seed"),
            "You always answered ('after', 'seed'), the library default. Run the four candidates and keep "
            "the one whose states match hs."),
    Mistake("form-only", _relabel(lambda f, u: (f, "seed")),
            "The forms are right, but you always answered 'seed' for the update: half of the sequences "
            "were made with Chung et al.'s h = (1 - z) * h_prev + z * h_tilde."),
    Mistake("update-only", _relabel(lambda f, u: ("after", u)),
            "The update conventions are right, but you always answered 'after' for the form: half of the "
            "sequences come from the reset-before GRU."),
]
