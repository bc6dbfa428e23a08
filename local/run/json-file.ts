import { parse, printParseErrorCode, type ParseError } from 'jsonc-parser';

/** What was expected where a JSON text first goes wrong, in words (jsonc-parser's codes). */
const EXPECTED: Partial<Record<ReturnType<typeof printParseErrorCode>, string>> = {
  PropertyNameExpected: 'expected a property name in double quotes',
  ColonExpected: "expected ':' after a property name",
  CommaExpected: "expected ',' between values",
  CloseBraceExpected: "expected '}'",
  CloseBracketExpected: "expected ']'",
  ValueExpected: 'expected a value: a string in double quotes, a number, true, false, null, {…} or […]',
  EndOfFileExpected: 'unexpected text after the JSON value',
  UnexpectedEndOfString: 'a string is not closed on its line',
  InvalidEscapeCharacter: 'an invalid escape (\\) in a string',
  InvalidCharacter: 'a line break or control character inside a string',
  InvalidSymbol: 'an unexpected character (strings and property names take double quotes)',
  UnexpectedEndOfNumber: 'a number is cut short',
  InvalidCommentToken: 'comments are not JSON',
  InvalidUnicode: 'an invalid \\u escape',
};

/**
 * The first syntax error in a JSON text: its line and column (from 1) and what was expected there,
 * never the text itself (a secrets file holds passwords). Undefined when the text is valid JSON.
 */
export function jsonSyntaxError(text: string): { line: number; column: number; problem: string } | undefined {
  const errors: ParseError[] = [];
  parse(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const first = errors[0];
  if (!first) return undefined;
  const before = text.slice(0, first.offset);
  const code = printParseErrorCode(first.error);
  const problem = EXPECTED[code] ?? code;
  return {
    line: before.split('\n').length,
    column: first.offset - before.lastIndexOf('\n'),
    problem: first.offset >= text.length ? `the text ends early (${problem})` : problem,
  };
}
