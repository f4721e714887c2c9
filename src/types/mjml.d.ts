declare module 'mjml' {
  interface MjmlError {
    line: number;
    message: string;
    tagName: string;
    formattedMessage: string;
  }
  interface MjmlResult {
    html: string;
    errors: MjmlError[];
  }
  export default function mjml2html(
    input: string,
    options?: {
      validationLevel?: 'strict' | 'soft' | 'skip';
      minify?: boolean;
      keepComments?: boolean;
      /** Web fonts MJML may link when a font-family names them; `{}` links none. */
      fonts?: Record<string, string>;
    },
  ): Promise<MjmlResult>;
}
