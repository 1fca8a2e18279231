/**
 * GLM-ASR's prompt and detokenization with the tokenizer of `@huggingface/transformers` (the model's tokenizer and
 * chat template: docs/model.md).  The prompt is the model's own chat template rendered by the library's Jinja, its
 * single `<|pad|>` expanded to one placeholder per audio token, encoded without added special tokens.  Every id is
 * read from the tokenizer; nothing is hard-coded.
 */

import { PreTrainedTokenizer } from '@huggingface/transformers';
import { TRANSCRIPTION_PROMPT } from './contract.ts';

export const AUDIO_TOKEN = '<|pad|>';

export class AsrTokenizer {
  private readonly tok: PreTrainedTokenizer;
  readonly audioTokenId: number;
  /** The rendered template around the audio placeholder: text before and after the single `<|pad|>`. */
  private readonly before: string;
  private readonly after: string;

  constructor(tokenizerJson: unknown, tokenizerConfig: unknown, chatTemplate: string) {
    this.tok = new PreTrainedTokenizer(tokenizerJson, tokenizerConfig);
    const id = this.tok.convert_tokens_to_ids(AUDIO_TOKEN);
    if (typeof id !== 'number' || id < 0) throw new Error(`the tokenizer has no ${AUDIO_TOKEN} token`);
    this.audioTokenId = id;
    const rendered = this.tok.apply_chat_template(
      [{ role: 'user', content: [{ type: 'audio' }, { type: 'text', text: TRANSCRIPTION_PROMPT }] }] as never,
      { chat_template: chatTemplate, tokenize: false, add_generation_prompt: true },
    ) as unknown;
    if (typeof rendered !== 'string') throw new Error('the chat template did not render to a string');
    const at = rendered.indexOf(AUDIO_TOKEN);
    if (at < 0 || rendered.indexOf(AUDIO_TOKEN, at + 1) >= 0)
      throw new Error(`the chat template must contain exactly one ${AUDIO_TOKEN}: ${JSON.stringify(rendered)}`);
    this.before = rendered.slice(0, at);
    this.after = rendered.slice(at + AUDIO_TOKEN.length);
  }

  /** Prompt ids for one window with `audioTokens` placeholders. */
  prompt(audioTokens: number): number[] {
    const text = this.before + AUDIO_TOKEN.repeat(audioTokens) + this.after;
    const ids = this.tok.encode(text, { add_special_tokens: false });
    const count = ids.reduce((n, id) => n + (id === this.audioTokenId ? 1 : 0), 0);
    if (count !== audioTokens) throw new Error(`prompt has ${count} audio placeholders, expected ${audioTokens}`);
    return ids;
  }

  /** `decode(ids, skip_special_tokens=True).strip()`, as the model's processor does (ByteLevel rebuilds UTF-8). */
  decode(ids: readonly number[]): string {
    return this.tok.decode(ids as number[], { skip_special_tokens: true }).trim();
  }
}
