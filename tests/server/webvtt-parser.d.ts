/** Types for the parts of webvtt-parser (the WebVTT validator the subtitle tests use as an oracle) used here. */
declare module 'webvtt-parser' {
  export interface VttCue {
    id: string;
    startTime: number;
    endTime: number;
    text: string;
    tree: { children: VttNode[] };
  }
  export interface VttNode {
    type: 'text' | 'object' | 'timestamp';
    value?: string;
    children?: VttNode[];
  }
  export interface VttParseResult {
    cues: VttCue[];
    errors: { message: string; line: number; col: number }[];
  }
  export class WebVTTParser {
    constructor(entities?: Record<string, string>);
    parse(input: string, mode?: 'metadata' | 'chapters'): VttParseResult;
  }
}
