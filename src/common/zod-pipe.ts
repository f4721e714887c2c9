import type { PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { invalidFields } from './errors.js';

/** Validates a body or query with a zod schema; a failure is InvalidInput naming each bad field. */
export class ZodPipe<T extends z.ZodType> implements PipeTransform<unknown, z.output<T>> {
  constructor(private readonly schema: T) {}

  transform(value: unknown): z.output<T> {
    const result = this.schema.safeParse(value ?? {});
    if (result.success) return result.data;
    throw invalidFields(
      result.error.issues.map((i) => ({
        field: i.path.length
          ? i.path.join('.')
          : i.code === 'unrecognized_keys'
            ? (i as { keys: string[] }).keys.join(', ')
            : '(body)',
        message: i.message,
      })),
    );
  }
}
