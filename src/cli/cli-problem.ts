/** Lower-cases the first letter of a sentence written for a page, so it reads after "reelgate: error: ". */
export function cliProblem(sentence: string): string {
  return sentence.charAt(0).toLowerCase() + sentence.slice(1);
}
