import { BadRequestException, ConflictException, NotFoundException } from '@nestjs/common';

/** 400 naming the field: `{statusCode, error, message: "field: problem", errors: [...]}`. */
export function invalid(field: string, problem: string): BadRequestException {
  return invalidFields([{ field, message: problem }]);
}

/** 400 naming every bad field at once; `message` joins them, first field first. */
export function invalidFields(errors: { field: string; message: string }[]): BadRequestException {
  return new BadRequestException({
    statusCode: 400,
    error: 'Bad Request',
    message: errors.map((e) => `${e.field}: ${e.message}`).join('; '),
    errors,
  });
}

export const conflict = (message: string) =>
  new ConflictException({ statusCode: 409, error: 'Conflict', message });
export const notFound = (message: string) =>
  new NotFoundException({ statusCode: 404, error: 'Not Found', message });
