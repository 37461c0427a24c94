/** Families of instruction / prompt-injection content. A self-edit states facts; none of these belongs in one. */
export enum InjectionFamily {
  INSTRUCTION_OVERRIDE = 'instruction-override',
  SYSTEM_PROMPT = 'system-prompt',
  ROLE_PLAY = 'role-play',
  PERSISTENT_DIRECTIVE = 'persistent-directive',
  HIDDEN_DIRECTIVE = 'hidden-directive',
  CHAT_TEMPLATE = 'chat-template',
  URL = 'url',
  MARKUP_OR_CODE = 'markup-or-code',
  ENCODED_BLOB = 'encoded-blob',
}

const TARGETS = String.raw`(?:instructions?|rules|prompts?|directions|guidelines|directives|context|constraints|guardrails|polic(?:y|ies)|training)`;

export const INJECTION_PATTERNS: Record<InjectionFamily, RegExp[]> = {
  [InjectionFamily.INSTRUCTION_OVERRIDE]: [
    new RegExp(
      String.raw`\b(?:ignore|disregard|forget|override|bypass|discard|drop|abandon)\b[^.]{0,40}?\b(?:previous|prior|above|earlier|preceding|original|all|any|your|the|safety)\b[^.]{0,24}?\b${TARGETS}`,
      'i',
    ),
    new RegExp(String.raw`\b(?:new|updated|real|actual|true)\s+${TARGETS}\s*:`, 'i'),
    new RegExp(String.raw`\b(?:do not|don't|never)\s+(?:follow|obey|apply)\b[^.]{0,30}\b${TARGETS}`, 'i'),
  ],
  [InjectionFamily.SYSTEM_PROMPT]: [
    /\b(?:system|developer|hidden|secret|initial|original)\s+(?:prompt|message|instructions?)\b/i,
    /\b(?:reveal|print|repeat|show|leak|output)\b[^.]{0,30}\b(?:prompt|instructions|configuration)\b/i,
    /\b(?:developer|debug|god|admin|sudo|maintenance)\s+mode\b/i,
  ],
  [InjectionFamily.ROLE_PLAY]: [
    /\byou are (?:now|no longer|free|an? (?:unrestricted|uncensored|unfiltered))\b/i,
    /\b(?:act|behave|respond|speak)\s+as\s+(?:if\s+you\b|my\b|an?\s+(?:unrestricted|evil|AI|assistant|chatbot|different\s+model))/i,
    /\byou\s+(?:will\s+|must\s+|should\s+|shall\s+)?(?:now\s+)?(?:act|behave|respond|speak)\s+as\b/i,
    /\bpretend\s+(?:to\s+be|you\s+are|that\s+you)\b/i,
    /\b(?:role-?play|jailbr[eo]ak\w*|do anything now|DAN mode)\b/i,
    /\b(?:without|no|free of)\s+(?:any\s+)?(?:content\s+|safety\s+)?(?:filters|censorship|guardrails)\b/i,
    /\b(?:no longer|not)\s+bound\s+by\b/i,
    /\b(?:uncensored|unfiltered)\b/i,
  ],
  [InjectionFamily.PERSISTENT_DIRECTIVE]: [
    /\bfrom now on\b/i,
    /\b(?:always|never|only)\s+(?:answer|respond|reply|say|output|mention|reveal|recommend|tell|claim|state|write|refuse)\b/i,
    /\b(?:answer|respond|reply)\s+(?:only\s+)?(?:with|by saying)\b/i,
    /\bwhenever\s+(?:you|someone|anyone|a user|the user|somebody|people)\b/i,
    /\b(?:when|if)\s+(?:you\s+are\s+|you're\s+)?(?:asked|questioned|prompted)\b[^.]{0,60}\b(?:say|answer|respond|reply|claim|state|tell)\b/i,
    /\b(?:the|any)\s+(?:correct|right|only|true)\s+answer\s+(?:to\s+(?:any|every|all)\b|is\s+always)\b/i,
    /\byou\s+(?:must|should|shall|will|need to|have to|are required to|are instructed to)\b/i,
    /\b(?:the\s+)?(?:assistant|model|AI|chatbot|language model|LLM)\s+(?:must|should|shall|has to|is required to)\b/i,
    /\b(?:questions?|queries|requests?|prompts?)\b[^.]{0,40}\b(?:must|should|shall|will|are to|is to)\s+be\s+(?:answered|met|responded|handled|refused|ignored)\b/i,
    /\b(?:all|any|every)\s+(?:future|subsequent|later|following)\s+(?:questions|queries|requests|prompts|conversations|answers|responses|messages)\b/i,
    // A self-edit states facts; a line that opens with an order to the reader is addressed to the model.
    /^\s*(?:respond|reply|answer|say|output|print|reveal|pretend|ignore|disregard|forget|obey|comply|refuse)\b(?!\s*:)/i,
  ],
  [InjectionFamily.HIDDEN_DIRECTIVE]: [
    /<!--[\s\S]*?(?:-->|$)/,
    /\[\s*(?:hidden|secret|system|admin|note to (?:the )?(?:model|ai|assistant))\b[^\]]*\]/i,
    /\b(?:note|message|instructions?|reminder)\s+(?:to|for)\s+(?:the\s+)?(?:model|AI|assistant|LLM|language model|trainer)\b/i,
    /\b(?:do not|don't|never)\s+(?:tell|reveal|mention|disclose|show)\b[^.]{0,20}\b(?:user|anyone|reader|humans?)\b/i,
    /\b(?:trigger|activation)\s+(?:word|phrase|token)\b/i,
  ],
  [InjectionFamily.CHAT_TEMPLATE]: [
    /<\|[a-z_]+(?:\|>)?/i,
    /\[\/?INST\]/i,
    /<<\/?SYS>>/i,
    /<\/?s>/i,
    /<\/?(?:start_of_turn|end_of_turn|bos|eos|pad|unk|sep|cls|mask)>/i,
    /(?:^|\s)#{2,}\s*(?:instruction|response|system|input|output)\b/i,
    /(?:^|\n)\s*(?:system|user|assistant|human|AI|bot)\s*:/i,
  ],
  [InjectionFamily.URL]: [
    /\b(?:https?|ftp|file|data|javascript):\/?\/?\S+/i,
    /\bwww\.\S+/i,
    /\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|io|ai|xyz|ru|cn|info|biz|co|me|ly|gg|app|dev|top|site|online|tk|onion)\b(?:\/\S*)?/i,
  ],
  [InjectionFamily.MARKUP_OR_CODE]: [
    /<\/?[a-z][a-z0-9-]*(?:\s[^<>]*)?\/?>/i,
    /```|`[^`]+`/,
    /\[[^\]]+\]\([^)]+\)/,
    /\{\{[^}]*\}\}|\$\{[^}]*\}|\{%[^%]*%\}/,
    /\b(?:eval|exec|os\.system|subprocess\.\w+|require|__import__|import|fetch)\s*\(/i,
    /(?:^|\s)(?:rm -rf|curl\s|wget\s|sudo\s|bash -c|powershell\b|chmod\s\+x)/i,
    /\b(?:select\s+[\w*,\s]+\s+from|drop\s+table|insert\s+into|union\s+select)\b/i,
    /;\s*(?:--|#)|\b(?:function|def|var|const|let)\s+\w+\s*[=(]/i,
  ],
  [InjectionFamily.ENCODED_BLOB]: [
    // Base64 long enough to hide a sentence: mixed case with digits, or padded.
    /(?<![\w/+])(?=[A-Za-z0-9+/]*\d)(?=[A-Za-z0-9+/]*[a-z])(?=[A-Za-z0-9+/]*[A-Z])[A-Za-z0-9+/]{24,}={0,2}(?![\w/+])/,
    /(?<![\w/+])[A-Za-z0-9+/]{16,}==?(?![\w/+=])/,
    /\b(?:[0-9a-f]{2}){16,}\b/i,
    /(?:\\x[0-9a-f]{2}){4,}|(?:\\u[0-9a-f]{4}){3,}|(?:%[0-9a-f]{2}){4,}|(?:&#x?[0-9a-f]+;){3,}/i,
    /\b(?:base64|rot13|hex)[- ]?(?:encoded|decode|decoded)?\s*:/i,
  ],
};
