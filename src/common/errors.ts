import { BadRequestException, ConflictException, NotFoundException } from '@nestjs/common';

/** 400 naming the field: `{statusCode, error, message: "field: problem", errors: [...]}`. */
export function invalid(field: string, problem: string): BadRequestException {
  return new BadRequestException({
    statusCode: 400,
    error: 'Bad Request',
    message: `${field}: ${problem}`,
    errors: [{ field, message: problem }],
  });
}

export const conflict = (message: string) =>
  new ConflictException({ statusCode: 409, error: 'Conflict', message });
export const notFound = (message: string) =>
  new NotFoundException({ statusCode: 404, error: 'Not Found', message });
