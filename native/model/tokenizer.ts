// A model's tokenizer: @huggingface/tokenizers on tokenizer.json + tokenizer_config.json, with token
// spans (character offsets into the source text) and the chat template (@huggingface/jinja).
import fs from 'node:fs';
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import type { TokenSpan } from '../../protocol';
import { ModelError } from '../onnx/errors';
import { readJsonObject } from './config';
import type { ModelFiles } from './files';
import { alignSpans } from './spans';

/** Token ids with their spans. */
export interface Encoded {
  ids: number[];
  tokens: TokenSpan[];
}

type Json = Record<string, unknown>;

/** A special token in tokenizer_config.json is a string or an AddedToken object. */
function tokenString(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as Json).content === 'string') return (v as Json).content as string;
  return undefined;
}

/** tokenizer_config.json's chat_template is a string or a list of named templates. */
function configTemplate(cfg: Json): string | undefined {
  const t = cfg.chat_template;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    const named = t as Array<{ name?: string; template?: string }>;
    return (named.find((x) => x.name === 'default') ?? named[0])?.template;
  }
  return undefined;
}

export class ModelTokenizer {
  private readonly texts = new Map<number, string>();
  private readonly contextId: number | undefined;
  private special?: { prefix: number[]; suffix: number[] };

  private constructor(
    private readonly tokenizer: Tokenizer,
    private readonly config: Json,
    /** Jinja chat template, when the model has one. */
    readonly chatTemplate: string | undefined,
  ) {
    this.contextId = this.bosId ?? tokenizer.encode('a', { add_special_tokens: false }).ids[0];
  }

  /** Load tokenizer.json (required), tokenizer_config.json and a chat_template.jinja if present. */
  static load(files: ModelFiles): ModelTokenizer {
    if (!files.tokenizer) throw new ModelError('MISSING_TOKENIZER', `no tokenizer.json in ${files.folder}`);
    const json = readJsonObject(files.tokenizer, 'MISSING_TOKENIZER');
    const config = files.tokenizerConfig ? readJsonObject(files.tokenizerConfig, 'MISSING_TOKENIZER') : {};
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(json, config);
    } catch (e) {
      throw new ModelError('MISSING_TOKENIZER', `tokenizer.json cannot be loaded (${(e as Error).message})`);
    }
    const template = files.chatTemplate ? fs.readFileSync(files.chatTemplate, 'utf8') : configTemplate(config);
    return new ModelTokenizer(tokenizer, config, template);
  }

  private specialId(key: string): number | undefined {
    const s = tokenString(this.config[key]);
    return s === undefined ? undefined : this.tokenizer.token_to_id(s);
  }

  get bosId(): number | undefined {
    return this.specialId('bos_token');
  }

  get eosId(): number | undefined {
    return this.specialId('eos_token');
  }

  /**
   * Tokenise `text` with the special tokens the post-processor adds (add_bos_token / add_eos_token in
   * tokenizer_config.json override it, as in transformers). With `chatTemplate`, `text` becomes a user turn
   * of the chat template and the spans of the template's own tokens are empty. `check` sees the ids
   * before the spans are computed, to refuse an input early.
   */
  encode(text: string, opts: { chatTemplate?: boolean; check?: (ids: number[]) => void } = {}): Encoded {
    if (opts.chatTemplate) return this.encodeChat(text, opts.check);
    const inner = this.tokenizer.encode(text, { add_special_tokens: false }).ids;
    const { prefix, suffix } = this.specialTokens;
    const ids = [...prefix, ...inner, ...suffix];
    opts.check?.(ids);
    const spans = alignSpans((x) => this.decode(x, false), inner, text);
    const tokens = ids.map((id, i): TokenSpan => {
      const j = i - prefix.length;
      const [start, end] = j < 0 ? [0, 0] : j < inner.length ? spans[j] : [text.length, text.length];
      return { id, text: this.tokenText(id), start, end };
    });
    return { ids, tokens };
  }

  /**
   * The special tokens put around every single text: what the post-processor adds around a probe text,
   * adjusted by add_bos_token / add_eos_token.
   */
  private get specialTokens(): { prefix: number[]; suffix: number[] } {
    if (!this.special) {
      const inner = this.tokenizer.encode('a', { add_special_tokens: false }).ids;
      const full = this.tokenizer.encode('a').ids;
      const at = Math.max(0, indexOfRun(full, inner));
      const prefix = full.slice(0, at);
      const suffix = full.slice(at + inner.length);
      const bos = this.bosId;
      const eos = this.eosId;
      if (bos !== undefined && this.config.add_bos_token === true && prefix[0] !== bos) prefix.unshift(bos);
      if (bos !== undefined && this.config.add_bos_token === false && prefix[0] === bos) prefix.shift();
      if (eos !== undefined && this.config.add_eos_token === true && suffix.at(-1) !== eos) suffix.push(eos);
      if (eos !== undefined && this.config.add_eos_token === false && suffix.at(-1) === eos) suffix.pop();
      this.special = { prefix, suffix };
    }
    return this.special;
  }

  private encodeChat(text: string, check?: (ids: number[]) => void): Encoded {
    if (!this.chatTemplate) throw new ModelError('BAD_REQUEST', 'this model has no chat template (tokenizer_config.json chat_template)');
    const rendered = this.renderChat([{ role: 'user', content: text }]);
    // Where the user's text sits: the template's output before a marker put in its place. Templates
    // may strip the content, so the text may start a little later than written.
    const marker = '\u0000layerlens-user-text\u0000';
    const before = this.renderChat([{ role: 'user', content: marker }]).split(marker)[0];
    const core = rendered.startsWith(before + text) ? text : text.trim();
    if (!rendered.startsWith(before + core)) throw new ModelError('BAD_REQUEST', 'the chat template changes the prompt text, so token offsets cannot be given');
    const coreStart = core === text ? 0 : text.length - text.trimStart().length;
    const offset = before.length - coreStart;
    const ids = this.tokenizer.encode(rendered, { add_special_tokens: false }).ids;
    check?.(ids);
    const spans = alignSpans((x) => this.decode(x, false), ids, rendered);
    // Template characters around the text map to the text's ends.
    const clamp = (x: number) => Math.min(coreStart + core.length, Math.max(coreStart, x - offset));
    return { ids, tokens: ids.map((id, i) => ({ id, text: this.tokenText(id), start: clamp(spans[i][0]), end: clamp(spans[i][1]) })) };
  }

  /** Render the chat template for `messages`, with the generation prompt for the assistant's turn. */
  renderChat(messages: Array<{ role: string; content: string }>): string {
    try {
      return new Template(this.chatTemplate ?? '').render({
        messages,
        add_generation_prompt: true,
        bos_token: tokenString(this.config.bos_token) ?? '',
        eos_token: tokenString(this.config.eos_token) ?? '',
        unk_token: tokenString(this.config.unk_token) ?? '',
        pad_token: tokenString(this.config.pad_token) ?? '',
      });
    } catch (e) {
      throw new ModelError('BAD_REQUEST', `the chat template failed: ${(e as Error).message}`);
    }
  }

  /** Spans for given ids, with offsets into their decoded text (special tokens kept). */
  fromIds(ids: number[]): { text: string; tokens: TokenSpan[] } {
    const text = this.decode(ids, false);
    const spans = alignSpans((x) => this.decode(x, false), ids, text);
    return { text, tokens: ids.map((id, i) => ({ id, text: this.tokenText(id), start: spans[i][0], end: spans[i][1] })) };
  }

  decode(ids: number[], skipSpecialTokens = true): string {
    if (ids.length === 0) return '';
    return this.tokenizer.decode(ids, { skip_special_tokens: skipSpecialTokens });
  }

  /** How one token reads after other text (` there`, not `there`); the raw piece for partial bytes. */
  tokenText(id: number): string {
    let t = this.texts.get(id);
    if (t === undefined) {
      const ctx = this.contextId;
      const alone = ctx === undefined ? this.decode([id], false) : this.decode([ctx, id], false).slice(this.decode([ctx], false).length);
      t = alone && !alone.includes('\uFFFD') ? alone : (this.tokenizer.id_to_token(id) ?? '');
      this.texts.set(id, t);
    }
    return t;
  }

  /** Number of ids in the vocabulary (with added tokens). */
  get vocabSize(): number {
    return this.tokenizer.get_vocab(true).size;
  }
}

/** Index of `run` as a contiguous run inside `ids`, or -1. */
function indexOfRun(ids: number[], run: number[]): number {
  for (let i = 0; i + run.length <= ids.length; i++) {
    let k = 0;
    while (k < run.length && ids[i + k] === run[k]) k++;
    if (k === run.length) return i;
  }
  return -1;
}
