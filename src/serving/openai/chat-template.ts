import { ChatMessage } from 'src/serving/openai/openai.schemas';

/** The instruction line of the model's closed-book prompt (models/default/prompts.json). */
export const DEFAULT_INSTRUCTION = "Let's answer a question directly and concisely.";

/** Generation of a chat turn ends at the end of the answer line, or where the model starts a new question. */
export const CHAT_STOP = ['\n', 'Question:'];

const textOf = (m: ChatMessage): string =>
  typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join('');

/**
 * Renders chat messages onto the model's question-answer prompt format:
 *
 *   <system or developer messages, one per line; default: "Let's answer a question directly and concisely.">
 *   Question: <user message>
 *   Answer: <assistant message>
 *   ...
 *   Question: <last user message>
 *   Answer:
 *
 * One user message renders exactly to the model's `closed-book` prompt. Line breaks inside a message are
 * folded to spaces so a message cannot forge a turn of its own.
 */
export function renderChat(messages: ChatMessage[]): string {
  const flat = (m: ChatMessage) =>
    textOf(m)
      .replace(/\s*\n\s*/g, ' ')
      .trim();
  const instructions = messages.filter((m) => m.role === 'system' || m.role === 'developer').map(flat);
  const lines = [instructions.length > 0 ? instructions.join('\n') : DEFAULT_INSTRUCTION];
  for (const m of messages) {
    if (m.role === 'user') lines.push(`Question: ${flat(m)}`);
    if (m.role === 'assistant') lines.push(`Answer: ${flat(m)}`);
  }
  return `${lines.join('\n')}\nAnswer:`;
}
