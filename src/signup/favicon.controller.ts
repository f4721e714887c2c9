import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';

/** The site's icon, drawn here: a teal tile with a white spine. Nothing fetched from elsewhere. */
const ICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">' +
  '<rect width="32" height="32" rx="7" fill="#0f766e"/>' +
  '<g fill="#fff">' +
  '<rect x="12.5" y="4" width="7" height="5" rx="2"/>' +
  '<rect x="12.5" y="10.5" width="7" height="5" rx="2"/>' +
  '<rect x="12.5" y="17" width="7" height="5" rx="2"/>' +
  '<rect x="13.5" y="23.5" width="5" height="4.5" rx="2"/>' +
  '</g></svg>';

/**
 * The layout links /favicon.svg; /favicon.ico answers the same for browsers and tools that
 * ask for it by habit (every browser that asks for it also reads SVG icons).
 */
@ApiExcludeController()
@Controller()
export class FaviconController {
  @Get(['favicon.svg', 'favicon.ico'])
  icon(@Res() res: Response): void {
    res.type('image/svg+xml').setHeader('Cache-Control', 'public, max-age=86400').send(ICON);
  }
}
