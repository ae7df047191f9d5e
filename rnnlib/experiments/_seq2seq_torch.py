"""The attention encoder-decoder of :mod:`rnnlib.training.seq2seq` written in PyTorch, for timing.

Same sizes and the same work per training step as
:class:`~rnnlib.training.seq2seq.EncoderDecoder` with ``attention=True``:
one-hot inputs, ``nn.LSTM`` encoder and decoder, additive attention
(``v^T tanh(q W_q + k W_k)``, padding masked), a linear readout of
``[h_dec; context]``, masked cross-entropy, backward, global-norm clipping at
1, Adam (lr 1e-3), all in float32. torch is passed in (never imported at
module level), so the module imports without it.
"""

from __future__ import annotations

import time


def build_torch_model(torch, V, H, A=None):
    """The model as a ``torch.nn.Module``; its ``forward(src, src_mask, tgt_in)`` returns logits."""
    nn = torch.nn
    A = A or H

    class TorchAttnSeq2Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.LSTM(V, H, batch_first=True)
            self.decoder = nn.LSTM(V, H, batch_first=True)
            self.W_q = nn.Linear(H, A, bias=False)
            self.W_k = nn.Linear(H, A, bias=False)
            self.v = nn.Linear(A, 1, bias=False)
            self.out = nn.Linear(2 * H, V)
            self.V = V

        def forward(self, src, src_mask, tgt_in):
            eye = torch.eye(self.V, dtype=self.out.weight.dtype)
            enc, state = self.encoder(eye[src])
            dec, _ = self.decoder(eye[tgt_in], state)
            u = torch.tanh(self.W_q(dec)[:, :, None, :] + self.W_k(enc)[:, None, :, :])
            e = self.v(u)[..., 0].masked_fill(~src_mask[:, None, :], float("-inf"))
            alpha = torch.softmax(e, dim=-1)  # over the source axis
            return self.out(torch.cat([dec, alpha @ enc], dim=-1))

    return TorchAttnSeq2Seq()


def time_torch(torch, batch_list, V, H, seed=0):
    """Mean (wall, CPU) seconds per training step over ``batch_list`` (rnnlib Batches), after a warm-up step.

    The CPU time (``time.process_time``) is the one to compare on a shared
    machine: with one thread it does not count the time other jobs held the core.
    """
    torch.manual_seed(seed)
    model = build_torch_model(torch, V, H)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    tensors = [tuple(torch.as_tensor(a) for a in (b.src, b.src_mask, b.tgt_in, b.tgt_out, b.tgt_mask))
               for b in batch_list]

    def step(src, mask, tgt_in, tgt_out, tgt_mask):
        opt.zero_grad()
        logits = model(src, mask, tgt_in)
        losses = torch.nn.functional.cross_entropy(logits.transpose(1, 2), tgt_out, reduction="none")
        loss = (losses * tgt_mask).sum() / tgt_mask.sum()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return float(loss.detach())

    step(*tensors[0])  # warm-up
    t0, c0 = time.perf_counter(), time.process_time()
    for t in tensors:
        step(*t)
    return (time.perf_counter() - t0) / len(tensors), (time.process_time() - c0) / len(tensors)
