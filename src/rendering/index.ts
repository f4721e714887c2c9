export { Renderer, MAX_SMS_SEGMENTS } from './renderer.js';
export { RenderingModule } from './rendering.module.js';
export * from './render-context.js';
export { countSegments } from './sms-segments.js';
