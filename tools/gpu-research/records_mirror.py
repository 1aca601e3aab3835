# Research-only PyTorch mirror of the records pretraining recipe (same Llama architecture, initialisation,
# AdamW settings and loss as src/Cartridges.ProvingGround/Pretraining), for curriculum sweeps on a GPU machine,
# where the C# trainer cannot run (no CUDA TorchSharp is served here). It trains on conversations exported by
# `cartridges data records-sequences` and writes HF-named bf16 weights that the project's runtime loads.
# Not used by the product or the tests; see docs/pretraining.md ("GPU sweep").
import gzip, struct, sys, json, time, math, os, argparse
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F

def load(path):
    data = gzip.open(path, 'rb').read()
    pools, off = {}, 0
    while off < len(data):
        r, n = struct.unpack_from('<ii', data, off); off += 8
        toks = np.frombuffer(data, dtype='<u2', count=n, offset=off).astype(np.int64); off += 2 * n
        labs = np.frombuffer(data, dtype=np.uint8, count=n, offset=off).copy(); off += n
        pools.setdefault(r, []).append((toks, labs))
    return pools

class RMS(nn.Module):
    def __init__(s, d): super().__init__(); s.weight = nn.Parameter(torch.ones(d))
    def forward(s, x): return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * s.weight

class Attn(nn.Module):
    def __init__(s, d, H):
        super().__init__(); s.H = H; s.hd = d // H
        s.q_proj = nn.Linear(d, d, bias=False); s.k_proj = nn.Linear(d, d, bias=False)
        s.v_proj = nn.Linear(d, d, bias=False); s.o_proj = nn.Linear(d, d, bias=False)
    def forward(s, x, cos, sin):
        B, T, d = x.shape
        q = s.q_proj(x).view(B, T, s.H, s.hd).transpose(1, 2)
        k = s.k_proj(x).view(B, T, s.H, s.hd).transpose(1, 2)
        v = s.v_proj(x).view(B, T, s.H, s.hd).transpose(1, 2)
        q = q * cos + rot(q) * sin; k = k * cos + rot(k) * sin
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return s.o_proj(o.transpose(1, 2).reshape(B, T, d))

def rot(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], -1)

class MLP(nn.Module):
    def __init__(s, d, ff):
        super().__init__()
        s.gate_proj = nn.Linear(d, ff, bias=False); s.up_proj = nn.Linear(d, ff, bias=False); s.down_proj = nn.Linear(ff, d, bias=False)
    def forward(s, x): return s.down_proj(F.silu(s.gate_proj(x)) * s.up_proj(x))

class Layer(nn.Module):
    def __init__(s, d, H, ff):
        super().__init__(); s.input_layernorm = RMS(d); s.self_attn = Attn(d, H); s.post_attention_layernorm = RMS(d); s.mlp = MLP(d, ff)
    def forward(s, x, cos, sin):
        x = x + s.self_attn(s.input_layernorm(x), cos, sin)
        return x + s.mlp(s.post_attention_layernorm(x))

class Model(nn.Module):
    def __init__(s, V, d, L, H, ff):
        super().__init__()
        s.embed_tokens = nn.Embedding(V, d); s.layers = nn.ModuleList([Layer(d, H, ff) for _ in range(L)]); s.norm = RMS(d)
        hd = d // H; inv = 1.0 / (10000.0 ** (torch.arange(0, hd, 2).float() / hd))
        f = torch.outer(torch.arange(4096).float(), inv); emb = torch.cat([f, f], -1)
        s.register_buffer('cos', emb.cos(), persistent=False); s.register_buffer('sin', emb.sin(), persistent=False)
        for n, p in s.named_parameters():
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * L) if (n.endswith('o_proj.weight') or n.endswith('down_proj.weight')) else 0.02
                nn.init.normal_(p, 0, std)
    def forward(s, ids):
        T = ids.shape[1]; cos, sin = s.cos[:T], s.sin[:T]
        x = s.embed_tokens(ids)
        for l in s.layers: x = l(x, cos, sin)
        return s.norm(x)
    def logits(s, h): return h @ s.embed_tokens.weight.T

def batch_of(seqs, dev):
    T = max(len(t) for t, _ in seqs)
    ids = np.zeros((len(seqs), T), np.int64); lab = np.zeros((len(seqs), T), np.float32); real = np.zeros((len(seqs), T), np.float32)
    for b, (t, l) in enumerate(seqs):
        ids[b, :len(t)] = t; ids[b, len(t):] = t[-1]; lab[b, :len(t)] = l; real[b, :len(t)] = 1
    return torch.from_numpy(ids).to(dev), torch.from_numpy(lab).to(dev), torch.from_numpy(real).to(dev)

@torch.no_grad()
def em(model, seqs, dev):
    ok = tot = 0
    for i in range(0, len(seqs), 16):
        chunk = seqs[i:i + 16]
        ids, lab, real = batch_of(chunk, dev)
        pred = model.logits(model(ids)).argmax(-1)  # predicts token t+1 at t
        for b, (t, l) in enumerate(chunk):
            p = pred[b, :len(t) - 1].cpu().numpy(); tgt = t[1:]; lb = l[1:]
            j = 0
            while j < len(lb):
                if lb[j] == 1:
                    k = j
                    while k < len(lb) and lb[k] == 1: k += 1
                    tot += 1; ok += int((p[j:k] == tgt[j:k]).all()); j = k
                else: j += 1
    return ok / max(tot, 1)

def main():
    a = argparse.ArgumentParser()
    a.add_argument('--name'); a.add_argument('--d', type=int, default=128); a.add_argument('--L', type=int, default=4)
    a.add_argument('--H', type=int, default=4); a.add_argument('--ff', type=int, default=384); a.add_argument('--lr', type=float, default=3e-3)
    a.add_argument('--cw', type=float, default=1.0); a.add_argument('--tps', type=int, default=4096); a.add_argument('--steps', type=int, default=8000)
    a.add_argument('--cur', default='ramp'); a.add_argument('--start', type=int, default=2); a.add_argument('--max', type=int, default=10)
    a.add_argument('--wall', type=float, default=400); a.add_argument('--every', type=int, default=250); a.add_argument('--seed', type=int, default=1)
    a.add_argument('--gate', type=float, default=0.8); a.add_argument('--warm', type=int, default=100); a.add_argument('--out', default='/tmp/runs'); a.add_argument('--data', default='.gpuwork'); a.add_argument('--init', default='')
    x = a.parse_args()
    torch.manual_seed(x.seed); rng = np.random.default_rng(x.seed); dev = 'cuda'
    torch.backends.cuda.matmul.allow_tf32 = False
    train = load(f'{x.data}/train.bin.gz'); held = load(f'{x.data}/heldout.bin.gz'); nodoc = load(f'{x.data}/heldout-nodoc.bin.gz')
    model = Model(2240, x.d, x.L, x.H, x.ff).to(dev)
    if x.init:
        from safetensors.torch import load_file
        sd = {k[len('model.'):]: v.float() for k, v in load_file(x.init).items()}
        model.load_state_dict(sd)
    dec = [p for p in model.parameters() if p.dim() == 2]; nodec = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{'params': dec, 'weight_decay': 0.01}, {'params': nodec, 'weight_decay': 0.0}], lr=x.lr, betas=(0.9, 0.98), fused=True)
    os.makedirs(x.out, exist_ok=True); log = open(f'{x.out}/{x.name}.jsonl', 'w')
    def emit(o):
        o['run'] = x.name; log.write(json.dumps(o) + '\n'); log.flush()
    emit({'config': vars(x)})
    level = x.start; t0 = time.time(); toks = 0; ema = None; step = 0
    for step in range(x.steps):
        if time.time() - t0 > x.wall: break
        if x.cur == 'ramp': c = round(x.start + (x.max - x.start) * min(1, step / (0.6 * x.steps)))
        elif x.cur == 'mix': c = x.max
        else: c = level
        lo = 1 if x.cur == 'mix' else max(1, c // 2)
        r = int(rng.integers(lo, c + 1)); r = max(k for k in train if k <= r); pool = train[r]
        seqs = []; longest = 0
        while True:
            s = pool[int(rng.integers(len(pool)))]
            L = max(longest, len(s[0]))
            if seqs and L * (len(seqs) + 1) > x.tps: break
            seqs.append(s); longest = L
        ids, lab, real = batch_of(seqs, dev)
        lrn = x.lr * (step + 1) / x.warm if step < x.warm else x.lr * (0.1 + 0.45 * (1 + math.cos(math.pi * min(1, (step - x.warm) / max(1, x.steps - x.warm)))))
        for g in opt.param_groups: g['lr'] = lrn
        h = model(ids[:, :-1]); w = (lab[:, 1:] + x.cw * (1 - lab[:, 1:])) * real[:, 1:]
        logp = F.log_softmax(model.logits(h).float(), -1)
        nll = -logp.gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
        loss = (nll * w).sum() / w.sum()
        ansloss = (nll * lab[:, 1:]).sum() / lab[:, 1:].sum().clamp(min=1)
        opt.zero_grad(set_to_none=True); loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step()
        toks += ids.numel()
        if step % 50 == 0:
            emit({'step': step, 'loss': loss.item(), 'ans': ansloss.item(), 'r': r, 'c': c, 'lr': lrn, 'tokens': toks, 'elapsed': time.time() - t0})
        if (step + 1) % x.every == 0:
            model.eval(); res = {}
            # Probe the sizes the export holds (1-12 records for the varied data, up to 48 for keyed), the gate at its level.
            gate_size = max(k for k in held if k <= level)
            for rr in sorted(set([1, 2, 5, 10, 20, 40, gate_size]) & set(held)):
                res[f'w{rr}'] = em(model, held[rr], dev)
            for rr in [1, 5]: res[f'n{rr}'] = em(model, nodoc[rr], dev)
            model.train()
            if x.cur == 'gate' and res[f'w{gate_size}'] >= x.gate and level < x.max: level += 1
            emit({'step': step + 1, 'probe': res, 'level': level, 'tokens': toks, 'elapsed': time.time() - t0})
    # final save, HF names, bf16
    from safetensors.torch import save_file
    sd = {('model.' + k if not k.startswith('lm_head') else k): v.detach().to(torch.bfloat16).contiguous().cpu() for k, v in model.state_dict().items()}
    save_file(sd, f'{x.out}/{x.name}.safetensors')
    emit({'done': step + 1, 'elapsed': time.time() - t0})

if __name__ == '__main__': main()
