"""A small Llama decoder whose parameter and submodule names match transformers' LlamaForCausalLM
(model.embed_tokens, model.layers.{i}.self_attn.q_proj, ..., model.norm, lm_head), so the ONNX
export has PyTorch-style node names (/model/layers.0/self_attn/q_proj/MatMul) like an Optimum export.
RMSNorm, rotate-half RoPE, grouped-query attention, SwiGLU MLP, tied embeddings.
"""
from dataclasses import dataclass, asdict
import math
import torch
import torch.nn as nn
import torch.nn.functional as F

NEG = float(torch.finfo(torch.float32).min)


@dataclass
class Config:
    vocab_size: int = 1024
    hidden_size: int = 64
    intermediate_size: int = 176
    num_hidden_layers: int = 4
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    rms_norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    max_position_embeddings: int = 256

    @property
    def head_dim(self):
        return self.hidden_size // self.num_attention_heads

    def to_dict(self):
        return asdict(self)


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rope_tables(position_ids, head_dim, theta):
    """cos, sin [B, 1, S, head_dim] for rotate-half RoPE."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    freqs = position_ids.float()[:, :, None] * inv_freq[None, None, :]
    emb = torch.cat((freqs, freqs), dim=-1)[:, None]
    return emb.cos(), emb.sin()


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Attention(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        self.nh, self.nkv, self.hd = c.num_attention_heads, c.num_key_value_heads, c.head_dim
        self.q_proj = nn.Linear(c.hidden_size, self.nh * self.hd, bias=False)
        self.k_proj = nn.Linear(c.hidden_size, self.nkv * self.hd, bias=False)
        self.v_proj = nn.Linear(c.hidden_size, self.nkv * self.hd, bias=False)
        self.o_proj = nn.Linear(self.nh * self.hd, c.hidden_size, bias=False)

    def forward(self, x, cos, sin, mask, past_key, past_value):
        b, s, _ = x.shape
        q = self.q_proj(x).view(b, s, self.nh, self.hd).transpose(1, 2)
        k = self.k_proj(x).view(b, s, self.nkv, self.hd).transpose(1, 2)
        v = self.v_proj(x).view(b, s, self.nkv, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = torch.cat([past_key, k], dim=2)
        v = torch.cat([past_value, v], dim=2)
        kr, vr = self._repeat_kv(k), self._repeat_kv(v)
        w = torch.matmul(q, kr.transpose(2, 3)) / math.sqrt(self.hd) + mask
        out = torch.matmul(F.softmax(w, dim=-1), vr).transpose(1, 2).reshape(b, s, self.nh * self.hd)
        return self.o_proj(out), k, v


    def _repeat_kv(self, x):
        """[B, nkv, T, hd] -> [B, nh, T, hd], each KV head shared by nh / nkv consecutive query heads."""
        b, nkv, t, hd = x.shape
        return x[:, :, None].expand(b, nkv, self.nh // nkv, t, hd).reshape(b, self.nh, t, hd)


class MLP(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        self.gate_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.up_proj = nn.Linear(c.hidden_size, c.intermediate_size, bias=False)
        self.down_proj = nn.Linear(c.intermediate_size, c.hidden_size, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        self.input_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RMSNorm(c.hidden_size, c.rms_norm_eps)
        self.mlp = MLP(c)

    def forward(self, h, cos, sin, mask, past_key, past_value):
        a, k, v = self.self_attn(self.input_layernorm(h), cos, sin, mask, past_key, past_value)
        h = h + a
        h = h + self.mlp(self.post_attention_layernorm(h))
        return h, k, v


class Backbone(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        self.c = c
        self.embed_tokens = nn.Embedding(c.vocab_size, c.hidden_size)
        self.layers = nn.ModuleList([DecoderLayer(c) for _ in range(c.num_hidden_layers)])
        self.norm = RMSNorm(c.hidden_size, c.rms_norm_eps)

    def forward(self, input_ids, attention_mask, position_ids, past):
        s = input_ids.shape[1]
        p = past[0].shape[2]
        total = attention_mask.shape[1]
        q_pos = torch.arange(s, dtype=torch.int64) + p
        k_pos = torch.arange(total, dtype=torch.int64)
        allowed = (k_pos[None, :] <= q_pos[:, None])[None, None] & (attention_mask[:, None, None, :] > 0)
        mask = (1.0 - allowed.to(torch.float32)) * NEG
        cos, sin = rope_tables(position_ids, self.c.head_dim, self.c.rope_theta)
        h = self.embed_tokens(input_ids)
        presents = []
        for i, layer in enumerate(self.layers):
            h, k, v = layer(h, cos, sin, mask, past[2 * i], past[2 * i + 1])
            presents += [k, v]
        return self.norm(h), presents


class LlamaForCausalLM(nn.Module):
    """forward(input_ids, attention_mask, position_ids, *past_key_values) -> (logits, *presents)."""

    def __init__(self, c: Config):
        super().__init__()
        self.config = c
        self.model = Backbone(c)
        self.lm_head = nn.Linear(c.hidden_size, c.vocab_size, bias=False)
        self.lm_head.weight = self.model.embed_tokens.weight
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)

    def empty_past(self, batch):
        c = self.config
        return [torch.zeros(batch, c.num_key_value_heads, 0, c.head_dim) for _ in range(2 * c.num_hidden_layers)]

    def forward(self, input_ids, attention_mask, position_ids, *past):
        h, presents = self.model(input_ids, attention_mask, position_ids, list(past))
        return (self.lm_head(h), *presents)

    def logits(self, input_ids):
        """Full-sequence logits with no cache and no padding (training, evaluation)."""
        b, s = input_ids.shape
        pos = torch.arange(s)[None].expand(b, s)
        return self(input_ids, torch.ones_like(input_ids), pos, *self.empty_past(b))[0]
