/**
 * Runs before the ValidationPipe on every request body: a body too deeply nested, or holding a
 * NUL byte, is refused (400, naming the field) before class-transformer or class-validator sees it.
 */
import { ArgumentMetadata, BadRequestException, Injectable, PipeTransform } from '@nestjs/common';
import { jsonShapeProblem } from './json-shape';

@Injectable()
export class JsonBodyShapePipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type !== 'body') return value;
    const problem = jsonShapeProblem(value);
    if (problem) throw new BadRequestException([problem]);
    return value;
  }
}
